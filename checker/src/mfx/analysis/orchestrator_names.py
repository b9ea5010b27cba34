"""Name resolution for the orchestrator analyses and rules: the names they import, from
:mod:`mfx.analysis.names` (the one name-resolution module).

The orchestrator view of a module's imports is :func:`import_map`: the imports outside functions
and classes, relative targets keeping their dots (``from metaflow._vendor import click`` makes
``click.group`` resolve to ``metaflow._vendor.click.group``).
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from mfx.analysis.names import (
    SCOPES,
    call_name,
    dotted,
    import_map,
    is_docstring,
    keyword,
    qualify,
    string_value,
    walk,
)
from mfx.analysis.names import module_imports as import_statements

__all__ = [
    "SCOPES",
    "call_name",
    "class_bases",
    "dotted",
    "import_map",
    "import_statements",
    "is_docstring",
    "keyword",
    "qualify",
    "string_value",
    "top_level_classes",
    "top_level_functions",
    "walk",
]


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
