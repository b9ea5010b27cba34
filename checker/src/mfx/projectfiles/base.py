"""The rule shape for project files, and what such a rule sees.

A :class:`ProjectFileRule` is the rule shape of its own scope (a :class:`~mfx.rule.RuleBase`,
neither a per-file :class:`~mfx.rule.Rule` nor a :class:`~mfx.rule.ProjectRule`): it may look at
the whole project (which files exist, the text of a build hook), and its findings are in a
non-Python file.
It declares the project files it reads in ``FILES`` (patterns of :data:`mfx.projectfiles.PATTERNS`)
and implements :meth:`ProjectFileRule.check_file`, called once per matching file that parsed.
Examples are written as ``{relative path: text}``: ``Valid({"pyproject.toml": "..."})``.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import Any, ClassVar, Iterable, Iterator, Mapping, Optional, Sequence

from mfx.applicability import ALWAYS, Triggers
from mfx.projectfiles import kind_of, matches
from mfx.projectfiles.toml_doc import KeyPositions
from mfx.rule import Report, RuleBase


@dataclasses.dataclass(frozen=True)
class FileReport(Report):
    """A :class:`Report` located by line and column, with where it ends (for noqa and output)."""

    end_line: Optional[int] = None
    end_column: Optional[int] = None


@dataclasses.dataclass
class ProjectFile:
    """One parsed project file. ``data`` is the TOML document (a dict) or the list of YAML
    documents' root nodes."""

    path: str
    text: str
    kind: str
    data: Any

    @cached_property
    def _keys(self) -> KeyPositions:
        return KeyPositions(self.text)

    def key_position(self, key_path: Sequence[str]) -> tuple[int, int]:
        """TOML only: (line, column) of ``key_path``, or of its closest enclosing key."""
        return self._keys.find(key_path)

    def key_span(self, key_path: Sequence[str]) -> tuple[tuple[int, int], tuple[int, int]]:
        """TOML only: (start, end) of the key as written, for reports that underline it."""
        return self._keys.span(key_path)

    def has_key(self, key_path: Sequence[str]) -> bool:
        return tuple(key_path) in self._keys.positions

    @property
    def directory(self) -> str:
        """The file's directory relative to the project root ("" at the root)."""
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""


@dataclasses.dataclass
class ProjectFilesContext:
    """The parsed project files of a run, plus the text of every file of the run by path."""

    files: Mapping[str, ProjectFile]
    texts: Mapping[str, str]

    def matching(self, patterns: Sequence[str]) -> Iterator[ProjectFile]:
        for path in sorted(self.files):
            if any(matches(path, p) for p in patterns):
                yield self.files[path]


class ProjectFileRule(RuleBase):
    """A rule over project files; see the module docstring."""

    #: Patterns (keys of :data:`mfx.projectfiles.PATTERNS`) of the files this rule reads.
    FILES: ClassVar[tuple[str, ...]] = ()
    #: Not gated by words of Python files: ``FILES`` says which files the rule reads.
    TRIGGERS: ClassVar[Triggers | None] = ALWAYS

    def __init__(self, context: ProjectFilesContext) -> None:
        self.context = context

    @classmethod
    def wants(cls, relpath: str) -> bool:
        return kind_of(relpath) is not None and any(matches(relpath, p) for p in cls.FILES)

    def check(self) -> Iterable[Report]:
        for file in self.context.matching(self.FILES):
            yield from self.check_file(file)

    def check_file(self, file: ProjectFile) -> Iterable[FileReport]:  # pragma: no cover - interface
        raise NotImplementedError

    def at_key(self, file: ProjectFile, key_path: Sequence[str], message: Optional[str] = None) -> FileReport:
        """A report on a TOML key (or its closest enclosing key written in the file)."""
        start, end = file.key_span(key_path)
        return self.at(file, start, message, end=end)

    def at(
        self,
        file: ProjectFile,
        position: tuple[int, int],
        message: Optional[str] = None,
        end: Optional[tuple[int, int]] = None,
    ) -> FileReport:
        """A report at ``position`` (1-based line, column) of ``file``."""
        end_line, end_column = end if end is not None else position
        return FileReport(
            node=None,
            message=message or self.message,
            path=file.path,
            line=position[0],
            column=position[1],
            end_line=end_line,
            end_column=end_column,
        )
