"""A project context whose files are parsed only when a project rule reads their tree.

Project rules often look at a few files (the ``mfextinit_*.py`` registration, the module it
names); indexing by module name needs paths only. So a file's libcst tree is built on first
access to ``.module`` and reused for locating the rule's reports.
"""

from __future__ import annotations

from typing import Callable, Mapping

import libcst as cst

from mfx.engine.context import FileContext, ProjectContext
from mfx.engine.runner import ParsedFile


class LazyFileContext(FileContext):
    """A :class:`FileContext` that parses its source on first access to ``module``."""

    def __init__(self, path: str, source: str, owner: "LazyProject") -> None:  # noqa: D107
        # Deliberately not calling the dataclass __init__: ``module`` is a property here.
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "source", source)
        self._owner = owner

    @property  # type: ignore[override]
    def module(self) -> cst.Module:
        return self._owner.parsed(self.path).module

    @property
    def index(self):  # type: ignore[override]
        """The parsed file's own index (one per file, shared with the per-file pass)."""
        return self._owner.parsed(self.path).context.index

    def built_index(self):
        pf = self._owner._parsed.get(self.path)
        return pf.context.built_index() if pf is not None else None

    def parsed_module(self):
        pf = self._owner._parsed.get(self.path)
        return pf.module if pf is not None else None

    def cached(self, key, build):
        """Analyses are kept on the parsed file's own context, so the per-file rules and the
        project rules of a run share them."""
        return self._owner.parsed(self.path).context.cached(key, build)


class LazyProject:
    """``parse(path, text)`` builds a missing tree (by default :class:`ParsedFile`, which raises
    on a syntax error; a parallel run passes one that claims the file and returns None for a
    file that does not parse, see :mod:`mfx.engine.pool`)."""

    def __init__(
        self,
        texts: Mapping[str, str],
        parsed: dict,
        parse: Callable[[str, str], ParsedFile | None] = ParsedFile,
    ) -> None:
        self._texts = dict(texts)
        self._parsed = parsed  # shared with the per-file pass (serial runs parse only once)
        self._parse = parse
        self._files = {p: LazyFileContext(p, t, self) for p, t in self._texts.items()}

    def parsed(self, path: str) -> ParsedFile | None:
        pf = self._parsed.get(path)
        if pf is None and path in self._texts:
            pf = self._parse(path, self._texts[path])
            if pf is not None:
                self._parsed[path] = pf
        return pf

    def context(self) -> ProjectContext:
        return ProjectContext(files=self._files)
