"""What a rule sees: one parsed file, or the set of parsed files of a project."""

from __future__ import annotations

import dataclasses
from functools import cached_property
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, TypeVar

import libcst as cst

if TYPE_CHECKING:  # pragma: no cover
    from mfx.engine.index import TreeIndex


T = TypeVar("T")


def package_of(path: str) -> str:
    """Dotted name of the package that contains the module at ``path`` (relative, ``/``)."""
    return ".".join(PurePosixPath(path).parts[:-1])


@dataclasses.dataclass
class FileContext:
    """One parsed source file. ``path`` is relative to the project root, with ``/`` separators."""

    path: str
    source: str
    module: cst.Module

    @property
    def module_name(self) -> str:
        """Dotted module name derived from the path (``a/b/c.py`` → ``a.b.c``)."""
        parts = list(PurePosixPath(self.path).with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    @property
    def package_name(self) -> str:
        """Dotted name of the package that contains this module."""
        return package_of(self.path)

    @property
    def is_test(self) -> bool:
        p = PurePosixPath(self.path)
        return any(part in ("tests", "test") for part in p.parts[:-1]) or p.name.startswith("test_")

    @property
    def words(self):
        """What the applicability pre-checks search (:class:`mfx.applicability.FileWords`),
        built once per file."""
        cached = self.__dict__.get("_file_words")
        if cached is None:
            from mfx.applicability import file_words

            cached = self.__dict__["_file_words"] = file_words(self.source, self.path)
        return cached

    def cached(self, key: object, build: Callable[[], T]) -> T:
        """The result of the analysis ``key`` for this file, built on first use with ``build()``
        and kept as long as the file context (one file of one run): how the shared analyses
        (:mod:`mfx.analysis`) remember per-file results, instead of module-level caches."""
        memo = self.__dict__.setdefault("_analyses", {})
        if key not in memo:
            memo[key] = build()
        return memo[key]

    # -- fast tree queries (built once per file, on first use; see mfx.engine.index) ----------
    @property
    def index(self) -> "TreeIndex":
        cached = self.__dict__.get("_tree_index")
        if cached is None:
            from mfx.engine.index import TreeIndex

            cached = self.__dict__["_tree_index"] = TreeIndex(self.module)
        return cached

    def parsed_module(self) -> cst.Module | None:
        """The tree if it is built (a lazy project's file may not be yet)."""
        return self.module

    def built_index(self) -> "TreeIndex | None":
        """The file's index if it was built (never builds it: see :func:`mfx.engine.index.index_for`)."""
        return self.__dict__.get("_tree_index")

    def nodes(self, kind, within: cst.CSTNode | None = None) -> list:
        """All nodes of ``kind`` (a class or tuple of classes) in tree order, optionally only
        inside ``within``: a binary search instead of another walk of the tree."""
        return self.index.nodes(kind, within)

    def parent_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The parent of ``node`` without declaring (and paying for) ParentNodeProvider."""
        return self.index.parent_of(node)


@dataclasses.dataclass
class ProjectContext:
    """All parsed files of one run, for rules that must look across files."""

    files: Mapping[str, FileContext]

    def cached(self, key: object, build: Callable[[], T]) -> T:
        """A project-wide analysis (the task-command model...), built once per run and shared by
        every rule of the run; see :meth:`FileContext.cached`."""
        memo = self.__dict__.setdefault("_analyses", {})
        if key not in memo:
            memo[key] = build()
        return memo[key]

    def __iter__(self) -> Iterator[FileContext]:
        return iter(self.files.values())

    @cached_property
    def by_module(self) -> dict[str, FileContext]:
        """Files by dotted module name, with and without any leading source directory."""
        out: dict[str, FileContext] = {}
        for f in self.files.values():
            name = f.module_name
            out.setdefault(name, f)
            # Also index from the metaflow_extensions root, wherever the project keeps it.
            marker = "metaflow_extensions."
            idx = name.find(marker)
            if idx > 0:
                out.setdefault(name[idx:], f)
        return out

    def resolve(self, dotted: str, relative_to: FileContext | None = None) -> FileContext | None:
        """Find the file that defines module ``dotted`` (a leading ``.`` is relative to the package
        of ``relative_to``, as Metaflow resolves ``*_DESC`` paths)."""
        if dotted.startswith(".") and relative_to is not None:
            dotted = relative_to.package_name + dotted
        return self.by_module.get(dotted)
