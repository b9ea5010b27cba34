"""A located finding, and how fixes are applied to source text."""

from __future__ import annotations

import dataclasses
from typing import Optional

from mfx.applicability import Applicability


@dataclasses.dataclass(frozen=True)
class Edit:
    """Replace the text between two (1-based line, 1-based column) positions."""

    start: tuple[int, int]
    end: tuple[int, int]
    content: str


@dataclasses.dataclass(frozen=True)
class FixEdit:
    edits: tuple[Edit, ...]
    applicability: Applicability
    title: str = ""


@dataclasses.dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    message: str
    path: str
    line: int  # 1-based
    column: int  # 1-based (ruff convention; libcst columns are 0-based)
    end_line: int
    end_column: int
    fix: Optional[FixEdit] = None

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code)


def _offsets(source: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(source):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def apply_edits(source: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits; overlapping ones after the first are skipped."""
    starts = _offsets(source)

    def off(pos: tuple[int, int]) -> int:
        line, col = pos
        return starts[line - 1] + col - 1

    spans = sorted(((off(e.start), off(e.end), e.content) for e in edits), key=lambda s: s[0])
    out, cursor, last_end = [], 0, -1
    for start, end, content in spans:
        if start < last_end:
            continue  # overlapping: left for the next fix pass
        out.append(source[cursor:start])
        out.append(content)
        cursor = last_end = end
    out.append(source[cursor:])
    return "".join(out)


def apply_fixes(source: str, diagnostics: list[Diagnostic]) -> tuple[str, list[Diagnostic]]:
    """Apply the fixes of ``diagnostics`` whose edits do not overlap an earlier accepted fix.

    Returns the new source and the diagnostics whose fix was applied; the others are left for
    the next pass (after which their positions are recomputed)."""
    starts = _offsets(source)

    def off(pos: tuple[int, int]) -> int:
        line, col = pos
        if line - 1 >= len(starts):
            return len(source)
        return min(starts[line - 1] + col - 1, len(source))

    taken: list[tuple[int, int]] = []
    spans: list[tuple[int, int, str]] = []
    applied: list[Diagnostic] = []
    for d in sorted(diagnostics, key=lambda d: d.sort_key):
        if d.fix is None:
            continue
        mine = [(off(e.start), off(e.end), e.content) for e in d.fix.edits]
        if any(s < te and ts < e or (s == e == ts == te) for s, e, _ in mine for ts, te in taken):
            continue
        taken.extend((s, e) for s, e, _ in mine)
        spans.extend(mine)
        applied.append(d)
    out, cursor = [], 0
    for start, end, content in sorted(spans, key=lambda s: (s[0], s[1])):
        out.append(source[cursor:start])
        out.append(content)
        cursor = max(cursor, end)
    out.append(source[cursor:])
    return "".join(out), applied
