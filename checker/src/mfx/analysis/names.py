"""Name resolution without libcst metadata: the one place analyses and rules read names from.

Project rules see parsed modules without a metadata wrapper, and per-file rules need the same
answers, so names are resolved from a module's own import statements:
``from metaflow._vendor import click`` makes ``click.group`` mean ``metaflow._vendor.click.group``;
``import metaflow.decorators as d`` makes ``d.StepDecorator`` mean
``metaflow.decorators.StepDecorator``. This is deliberately simple (no re-binding tracking): rules
use it to *identify* things and skip what does not resolve.

Two views of a module's imports are built on the same reading of import statements
(:func:`import_bindings`):

* :func:`import_map` (orchestrator analyses): the imports outside functions and classes, relative
  targets keep their leading dots (``.deployer.X``), as Metaflow's ``*_DESC`` paths are written;
* :class:`ImportMap` (backend and security analyses): every import, relative targets resolved
  against the module's package, Metaflow's vendored prefix stripped on resolution.

:mod:`mfx.analysis.orchestrator_names` and :mod:`mfx.analysis.backend_names` re-export these
under the names their rules import.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from mfx.engine.index import index_for, walk_code

#: Modules that are Metaflow's vendored copies of third-party packages.
VENDOR_PREFIX = "metaflow._vendor."

#: Nodes that open a new function scope.
SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)

# -- expressions ------------------------------------------------------------------------------


def dotted(expr: cst.BaseExpression | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    # Exact type tests: libcst never subclasses its concrete node classes (see the test of
    # CONCRETE in tests/checker/test_libcst_private_api.py), and isinstance() through
    # ABCMeta costs ~10x as much in these helpers, which run for most nodes of a project.
    kind = type(expr)
    if kind is cst.Name:
        return expr.value  # type: ignore[union-attr]
    if kind is cst.Attribute:
        left = dotted(expr.value)  # type: ignore[union-attr]
        return None if left is None else f"{left}.{expr.attr.value}"
    return None


def string_value(expr: cst.CSTNode | None) -> str | None:
    """The value of a plain (non-f, non-bytes) string literal, else None."""
    if type(expr) is cst.SimpleString:
        value = literal_value(expr)
        return value if isinstance(value, str) else None
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def literal_value(node: cst.SimpleString) -> str | bytes:
    """``node.evaluated_value`` (may raise as it does), without ``ast.literal_eval`` for the
    common literal that needs no evaluation: no backslash (or a raw string), no carriage return,
    not bytes. Then the value is the text between the quotes; libcst's evaluation parses the
    literal with Python's parser, the largest cost of collecting a big module's strings."""
    raw = node.value
    quote = raw[-1]
    start = raw.find(quote)
    prefix = raw[:start].lower()
    if prefix in ("", "u", "r") and "\r" not in raw and ("\\" not in raw or prefix == "r"):
        width = 3 if raw.startswith(quote * 3, start) and len(raw) - start >= 6 else 1
        return raw[start + width : len(raw) - width]
    return node.evaluated_value


def call_name(call: cst.Call) -> str | None:
    """Last name of the called function: ``open`` for ``open(...)``, ``dump`` for ``json.dump``."""
    func = call.func
    kind = type(func)
    if kind is cst.Name:
        return func.value  # type: ignore[union-attr]
    if kind is cst.Attribute:
        return func.attr.value  # type: ignore[union-attr]
    return None


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    """The ``name=...`` argument of ``call``, or None."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional(call: cst.Call) -> Sequence[cst.Arg]:
    """The positional arguments of ``call`` (no ``*args`` / ``**kwargs``)."""
    return [a for a in call.args if a.keyword is None and not a.star]


def matches_qualified(full: str | None, candidates: Sequence[str]) -> bool:
    """``full`` equals a candidate or ends with ``.<candidate>`` (``click.option`` matches
    ``metaflow._vendor.click.option`` after vendor stripping, and plain ``click.option``)."""
    if not full:
        return False
    return any(full == c or full.endswith("." + c) for c in candidates)


def is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


# -- walking ----------------------------------------------------------------------------------


def walk(node: cst.CSTNode, skip: tuple = ()) -> list[cst.CSTNode]:
    """Pre-order (document order) list of a sub-tree's code nodes; the children of nodes of the
    ``skip`` types (other than ``node`` itself) are not entered.

    Answered from the module's :class:`~mfx.engine.index.TreeIndex` (built once) when the
    sub-tree belongs to a recently indexed module; otherwise by reading the fields, in the same
    order."""
    if not skip:
        return walk_code(node)
    return walk_code(node, skip)


# -- imports ----------------------------------------------------------------------------------


def module_imports(module: cst.Module) -> Iterator[cst.Import | cst.ImportFrom]:
    """Every import statement of the module at any depth outside functions and classes
    (module level, and inside ``if``/``try``/``with`` blocks there)."""

    def scan(body: object) -> Iterator[cst.Import | cst.ImportFrom]:
        for stmt in body:  # type: ignore[attr-defined]
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        yield small
            elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
                yield from scan(stmt.body.body)
                if isinstance(stmt, cst.If) and stmt.orelse is not None:
                    orelse = stmt.orelse
                    yield from scan(orelse.body.body if isinstance(orelse, cst.Else) else [orelse])
                if isinstance(stmt, cst.Try):
                    for handler in stmt.handlers:
                        yield from scan(handler.body.body)

    yield from scan(module.body)


def all_imports(module: cst.Module) -> Iterator[cst.Import | cst.ImportFrom]:
    """Every import statement of the module, functions and classes included, in document order
    (a search of the module's index instead of a walk of every node)."""
    idx = index_for(module)
    if idx is not None:
        yield from idx.nodes((cst.Import, cst.ImportFrom), within=module)
        return
    for node in walk_code(module):
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            yield node


def import_bindings(imp: cst.Import | cst.ImportFrom) -> Iterator[tuple[str, str, bool]]:
    """``(local name, imported dotted name, binds)`` for each alias of an import statement.

    ``import a.b`` binds nothing new when ``a`` is already bound (``binds`` False: the local
    ``a`` is the package either way); ``import a.b as c`` binds ``c`` to ``a.b``. For
    ``from m import x as y`` the name is ``x`` (the caller joins it to the module it resolves
    ``m`` to). ``from m import *`` yields nothing."""
    if isinstance(imp, cst.Import):
        for alias in imp.names:
            full = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield alias.asname.name.value, full, True
            else:
                head = full.split(".")[0]
                yield head, head, False
        return
    if isinstance(imp.names, cst.ImportStar):
        return
    for alias in imp.names:
        name = dotted(alias.name) or ""
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        yield local, name, True


def _bind(out: dict[str, str], imp: cst.Import | cst.ImportFrom, base: str | None) -> None:
    for local, name, binds in import_bindings(imp):
        target = name if base is None else base + name
        if binds:
            out[local] = target
        else:
            out.setdefault(local, target)


def import_map(module: cst.Module) -> dict[str, str]:
    """Local name → dotted target for the imports outside functions and classes; relative
    targets keep their dots (``from .x import y`` → ``.x.y``)."""
    out: dict[str, str] = {}
    for imp in module_imports(module):
        base = None
        if isinstance(imp, cst.ImportFrom):
            base = "." * len(imp.relative) + (dotted(imp.module) or "")
            base = base if base.endswith(".") else base + "."
        _bind(out, imp, base)
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


def absolute_module(imp: cst.ImportFrom, package: str) -> str:
    """The module ``from <m> import ...`` reads, with leading dots resolved against ``package``
    (the package of the importing module; "" when unknown)."""
    base = dotted(imp.module) or ""
    if not imp.relative:
        return base
    dots = len(imp.relative)
    parts = package.split(".") if package else []
    if dots > 1:
        parts = parts[: len(parts) - (dots - 1)] if dots - 1 <= len(parts) else []
    return ".".join(p for p in (".".join(parts), base) if p)


class ImportMap:
    """Local name → fully qualified name, from every import of a module (nested ones included);
    relative imports are resolved against ``package``."""

    def __init__(self, module: cst.Module, package: str = "") -> None:
        self.names: dict[str, str] = {}
        self.package = package
        for imp in all_imports(module):
            base = None
            if isinstance(imp, cst.ImportFrom):
                base = absolute_module(imp, package)
                base = base + "." if base else ""
            _bind(self.names, imp, base)

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of a Name/Attribute chain (unimported names resolve to themselves),
        without Metaflow's vendored prefix (``metaflow._vendor.click.option`` → ``click.option``)."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.names.get(head, head)
        full = f"{full}.{rest}" if rest else full
        return full.removeprefix(VENDOR_PREFIX)

    def is_imported(self, local: str) -> bool:
        return local in self.names
