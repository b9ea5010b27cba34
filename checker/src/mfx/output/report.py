"""What every output format gets: the findings, where files are, and how fixes were treated."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mfx.applicability import Applicability
from mfx.engine.diagnostic import Diagnostic
from mfx.engine.noqa import parse_noqa


@dataclasses.dataclass
class Report:
    root: Path
    files: list[str]
    diagnostics: list[Diagnostic]
    texts: dict[str, str]  # relative path -> source text (for snippets and noqa rows)
    unsafe_fixes: bool = False
    fixed: int = 0  # how many were fixed by --fix
    enabled_codes: tuple = ()  # rules that ran (SARIF describes them all)
    quiet: bool = False  # text formats: findings only, no summary
    cwd: Path = dataclasses.field(default_factory=Path.cwd)

    def absolute(self, relpath: str) -> Path:
        p = Path(relpath)
        return p if p.is_absolute() else self.root / p

    def display(self, relpath: str) -> str:
        """Path as printed: relative to the working directory when below it."""
        absolute = self.absolute(relpath)
        try:
            return absolute.relative_to(self.cwd.resolve()).as_posix()
        except ValueError:
            return absolute.as_posix()

    def fixable(self, d: Diagnostic) -> bool:
        """Fixable by the current options (``[*]`` in the text formats)."""
        return d.fix is not None and (self.unsafe_fixes or d.fix.applicability == Applicability.SAFE)

    def hidden_unsafe(self) -> int:
        return sum(1 for d in self.diagnostics if d.fix is not None and not self.fixable(d))

    def noqa_row(self, d: Diagnostic) -> int:
        text = self.texts.get(d.path)
        if text is None:
            return d.line
        cache = self.__dict__.setdefault("_noqa", {})
        if d.path not in cache:
            cache[d.path] = parse_noqa(text)
        return cache[d.path].noqa_row(d.line)

    def line_text(self, relpath: str, line: int) -> str:
        text = self.texts.get(relpath, "")
        lines = text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""
