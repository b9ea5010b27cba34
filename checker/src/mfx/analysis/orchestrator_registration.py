"""Read the ``*_DESC`` registration lists of a plugins config module and resolve their targets.

Metaflow reads ``CLIS_DESC``, ``DEPLOYER_IMPL_PROVIDERS_DESC``, ``STEP_DECORATORS_DESC`` … from
``mfextinit_<x>.py`` (or ``plugins/__init__.py``) as lists of ``(name, "<module>.<attr>")``;
a leading ``.`` is relative to the config module's package (orchestrator-contract B.3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import dotted, string_value
from mfx.engine.context import FileContext, ProjectContext


@dataclasses.dataclass
class DescEntry:
    desc: str  # e.g. "CLIS_DESC"
    file: FileContext
    key: str
    key_node: cst.CSTNode
    path: str  # e.g. ".kestra.kestra_cli.cli"
    path_node: cst.CSTNode

    @property
    def module_path(self) -> str:
        return self.path.rsplit(".", 1)[0]

    @property
    def attr(self) -> str:
        return self.path.rsplit(".", 1)[-1]


def _entries(value: cst.BaseExpression) -> Iterator[tuple[cst.BaseExpression, cst.BaseExpression]]:
    if isinstance(value, (cst.List, cst.Tuple)):
        for el in value.elements:
            item = el.value
            if isinstance(item, (cst.Tuple, cst.List)) and len(item.elements) == 2:
                yield item.elements[0].value, item.elements[1].value


def desc_entries(file: FileContext, desc: str) -> list[DescEntry]:
    """Entries of the module-level list ``desc`` (assignments, ``+=`` and ``.append/.extend``)."""
    out: list[DescEntry] = []
    if not file.words.mentions(desc):
        # Every form read below names the list as an identifier: a file whose text does not
        # contain it has no entry (and its tree need not be built: lazy project contexts).
        return out

    def add(value: cst.BaseExpression) -> None:
        for k, p in _entries(value):
            key, path = string_value(k), string_value(p)
            if key is not None and path is not None and "." in path:
                out.append(DescEntry(desc, file, key, k, path, p))

    for stmt in file.module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == desc for t in small.targets
            ) or isinstance(small, cst.AugAssign) and dotted(small.target) == desc:
                add(small.value)
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                func = small.value.func
                if isinstance(func, cst.Attribute) and dotted(func.value) == desc and small.value.args:
                    arg = small.value.args[0].value
                    if func.attr.value == "append":
                        add(cst.List([cst.Element(arg)]))
                    elif func.attr.value == "extend":
                        add(arg)
    return out


def all_desc_entries(project: ProjectContext, desc: str) -> list[DescEntry]:
    out: list[DescEntry] = []
    for f in project:
        out.extend(desc_entries(f, desc))
    return out


def resolve_target(project: ProjectContext, entry: DescEntry) -> FileContext | None:
    """The project file that defines the entry's module, or None when it is not in the project."""
    return project.resolve(entry.module_path, relative_to=entry.file)


def find_definition(file: FileContext, name: str) -> cst.CSTNode | None:
    """The top-level ``def``/``class`` named ``name`` in ``file``."""
    for stmt in file.module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and stmt.name.value == name:
            return stmt
    return None
