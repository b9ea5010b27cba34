"""Name resolution without libcst metadata, for analyses shared by per-file and project rules.

Project rules see parsed modules but no metadata wrapper, so the orchestrator analyses resolve
names from a module's own import statements: ``from metaflow._vendor import click`` makes
``click.group`` resolve to ``metaflow._vendor.click.group``. This is deliberately simple (no
re-binding tracking); rules use it only to *identify* things, and skip what does not resolve.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from mfx.engine.index import walk_code


def dotted(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        left = dotted(expr.value)
        return None if left is None else f"{left}.{expr.attr.value}"
    return None


def _module_text(node: cst.ImportFrom) -> str:
    dots = "." * len(node.relative)
    mod = dotted(node.module) if node.module is not None else ""
    return dots + (mod or "")


def import_statements(module: cst.Module) -> Iterator[cst.Import | cst.ImportFrom]:
    """Every import statement of the module, at any depth outside functions and classes."""

    def walk(body: object) -> Iterator[cst.Import | cst.ImportFrom]:
        for stmt in body:  # type: ignore[attr-defined]
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        yield small
            elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
                yield from walk(stmt.body.body)
                if isinstance(stmt, cst.If) and stmt.orelse is not None:
                    orelse = stmt.orelse
                    yield from walk(orelse.body.body if isinstance(orelse, cst.Else) else [orelse])
                if isinstance(stmt, cst.Try):
                    for handler in stmt.handlers:
                        yield from walk(handler.body.body)

    yield from walk(module.body)


def import_map(module: cst.Module) -> dict[str, str]:
    """Local name → dotted target for the module's imports (relative targets keep their dots)."""
    out: dict[str, str] = {}
    for imp in import_statements(module):
        if isinstance(imp, cst.Import):
            for alias in imp.names:
                full = dotted(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    out[alias.asname.name.value] = full
                else:
                    first = full.split(".")[0]
                    out.setdefault(first, first)
        else:
            if isinstance(imp.names, cst.ImportStar):
                continue
            base = _module_text(imp)
            for alias in imp.names:
                name = dotted(alias.name) or ""
                local = name
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                sep = "" if base.endswith(".") else "."
                out[local] = f"{base}{sep}{name}"
    return out


def qualify(expr: cst.BaseExpression, imports: dict[str, str]) -> str | None:
    """Dotted name of ``expr`` with its first part replaced by what it was imported as."""
    name = dotted(expr)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head in imports:
        target = imports[head]
        return f"{target}.{rest}" if rest else target
    return name


def string_value(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain (non f-) string literal, else None."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def call_name(call: cst.Call) -> str | None:
    """Last name of the called function: ``open`` for ``open(...)``, ``dump`` for ``json.dump``."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def top_level_functions(module: cst.Module) -> Iterator[cst.FunctionDef]:
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            yield stmt


def top_level_classes(module: cst.Module) -> Iterator[cst.ClassDef]:
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            yield stmt


def class_bases(cls: cst.ClassDef, imports: dict[str, str]) -> set[str]:
    out = set()
    for base in cls.bases:
        q = qualify(base.value, imports)
        if q:
            out.add(q)
    return out


def walk(node: cst.CSTNode, skip: tuple = ()) -> list[cst.CSTNode]:
    """Pre-order (document order) list of a sub-tree's code nodes; the children of nodes of the
    ``skip`` types (other than ``node`` itself) are not entered.

    Answered from the module's :class:`~mfx.engine.index.TreeIndex` (built once) when the
    sub-tree belongs to a recently indexed module; otherwise by reading the fields, in the same
    order."""
    if not skip:
        return walk_code(node)
    return walk_code(node, lambda n: type(n) in skip)


#: Nodes that open a new function scope.
SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
