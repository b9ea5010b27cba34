"""Name resolution for backend and security rules that cannot use libcst's metadata.

Project rules see parsed modules without metadata, and several per-file rules need the same
answers as project rules. So this module resolves names from a module's own import statements:
``from metaflow.decorators import StepDecorator`` makes ``StepDecorator`` mean
``metaflow.decorators.StepDecorator``; ``import metaflow.decorators as d`` makes ``d.StepDecorator``
mean the same. Relative imports are resolved against the module's package when it is known.
This is deliberately the same information a qualified-name provider would give for imported
names, computed once per module and cached.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from mfx.engine.index import code_children, index_for, walk_code

#: Modules that are Metaflow's vendored copies of third-party packages.
_VENDOR_PREFIX = "metaflow._vendor."


def dotted_of_node(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_of_node(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _module_dotted(module: cst.BaseExpression | None) -> str:
    if module is None:
        return ""
    return dotted_of_node(module) or ""


class ImportMap:
    """Local name → fully qualified name, from a module's top-level (and nested) imports."""

    def __init__(self, module: cst.Module, package: str = "") -> None:
        self.names: dict[str, str] = {}
        self.package = package
        for stmt in _iter_import_statements(module):
            self._add(stmt)

    def _add(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _module_dotted(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.names[alias.asname.name.value] = full
                else:
                    head = full.split(".")[0]
                    self.names.setdefault(head, head)
        elif isinstance(node, cst.ImportFrom):
            base = _module_dotted(node.module)
            if node.relative:
                dots = len(node.relative)
                parts = self.package.split(".") if self.package else []
                if dots > 1:
                    parts = parts[: len(parts) - (dots - 1)] if dots - 1 <= len(parts) else []
                prefix = ".".join(parts)
                base = ".".join(p for p in (prefix, base) if p)
            if isinstance(node.names, cst.ImportStar):
                return
            for alias in node.names:
                name = _module_dotted(alias.name)
                local = name
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                self.names[local] = f"{base}.{name}" if base else name

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of a Name/Attribute chain (unimported names resolve to themselves)."""
        dotted = dotted_of_node(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        full = self.names.get(head, head)
        full = f"{full}.{rest}" if rest else full
        full = full.removeprefix(_VENDOR_PREFIX)
        return full

    def is_imported(self, local: str) -> bool:
        return local in self.names


def _iter_import_statements(module: cst.Module) -> Iterator[cst.CSTNode]:
    """Every Import/ImportFrom in the module, including those inside functions and ifs, in
    document order (two binary searches in the module's index instead of a walk of every node)."""
    idx = index_for(module)
    if idx is not None:
        yield from idx.nodes((cst.Import, cst.ImportFrom), within=module)
        return
    for node in walk(module):
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            yield node


#: Direct code children of a node (formatting fields skipped), in the module index's order.
child_nodes = code_children


#: Pre-order walk of a sub-tree's code nodes (``prune``: yielded but not entered).
walk = walk_code


def string_value(node: cst.CSTNode | None) -> str | None:
    """The value of a plain (non-f) string literal, or None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        if isinstance(value, bytes):
            return None
        return value
    return None


def call_name(node: cst.Call) -> str | None:
    """The last segment of the called name: ``get_package_commands`` for ``env.get_package_commands(...)``."""
    func = node.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def keyword(node: cst.Call, name: str) -> cst.Arg | None:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional(node: cst.Call) -> Sequence[cst.Arg]:
    return [a for a in node.args if a.keyword is None and not a.star]


def matches_qualified(full: str | None, candidates: Sequence[str]) -> bool:
    """``full`` equals a candidate or ends with ``.<candidate>`` (``click.option`` matches
    ``metaflow._vendor.click.option`` after vendor stripping, and plain ``click.option``)."""
    if not full:
        return False
    return any(full == c or full.endswith("." + c) for c in candidates)
