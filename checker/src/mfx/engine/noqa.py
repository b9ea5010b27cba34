"""``# noqa`` suppressions, read from real comments with the tokenizer.

* ``# noqa`` on a line suppresses every diagnostic whose noqa line is that line;
  ``# noqa: MFX101, MFX2`` only the codes those selectors match (comma or space separated,
  case-insensitive). Codes of other tools (``# noqa: E501``) suppress nothing of ours.
* ``# mfx: noqa`` anywhere in a file suppresses everything in the file;
  ``# mfx: noqa: MFX101`` those codes in the whole file.
* A diagnostic's noqa line is its start line. When that line is inside a multi-line string
  (a triple-quoted literal), the comment belongs after the string, so the string's last line is
  used (as ruff does).

A ``# noqa`` inside a string literal is text, not a comment, and so suppresses nothing: that is
why this reads tokens, not lines.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from typing import Optional

_FILE_RE = re.compile(r"#\s*mfx\s*:\s*noqa(?:\s*:\s*(?P<codes>[A-Za-z0-9_,\s]+))?", re.IGNORECASE)
_LINE_RE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_CODE_RE = re.compile(r"[A-Za-z]+[0-9]+")

#: ``None`` as the codes of a line means "every code" (a blanket noqa).
Codes = Optional[frozenset]


@dataclasses.dataclass
class NoqaMap:
    lines: dict[int, Codes] = dataclasses.field(default_factory=dict)
    file_all: bool = False
    file_codes: frozenset = frozenset()
    #: (first line, last line) of every multi-line string token.
    strings: list[tuple[int, int]] = dataclasses.field(default_factory=list)

    def noqa_row(self, line: int) -> int:
        for first, last in self.strings:
            if first <= line <= last:
                return last
        return line

    def suppresses(self, code: str, line: int) -> bool:
        if self.file_all or _matches(self.file_codes, code):
            return True
        row = self.noqa_row(line)
        if row not in self.lines:
            return False
        codes = self.lines[row]
        return codes is None or _matches(codes, code)


def _matches(selectors: frozenset, code: str) -> bool:
    return any(code.startswith(sel) for sel in selectors)


def _codes(raw: str) -> frozenset:
    return frozenset(c.upper() for c in _CODE_RE.findall(raw))


def parse_noqa(source: str) -> NoqaMap:
    """Collect the suppressions of ``source``. Source the tokenizer rejects has none."""
    result = NoqaMap()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        return result
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+ splits f-strings
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    open_fstrings: list[int] = []
    for tok in tokens:
        if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
            result.strings.append((tok.start[0], tok.end[0]))
        elif fstring_start is not None and tok.type == fstring_start:
            open_fstrings.append(tok.start[0])
        elif fstring_end is not None and tok.type == fstring_end and open_fstrings:
            first = open_fstrings.pop()
            if tok.end[0] > first:
                result.strings.append((first, tok.end[0]))
        if tok.type != tokenize.COMMENT:
            continue
        add_comment(result, tok.start[0], tok.string)
    return result


def add_comment(result: NoqaMap, row: int, comment: str) -> None:
    """Record what one comment on line ``row`` suppresses (file-wide ``# mfx: noqa[: codes]`` or
    line ``# noqa[: codes]``). Shared with the TOML/YAML reader so both grammars agree."""
    file_match = _FILE_RE.search(comment)
    if file_match:
        if file_match.group("codes"):
            result.file_codes = result.file_codes | _codes(file_match.group("codes"))
        else:
            result.file_all = True
        return
    match = _LINE_RE.search(comment)
    if not match:
        return
    previous = result.lines.get(row, frozenset())
    if match.group("codes") and previous is not None:
        result.lines[row] = previous | _codes(match.group("codes"))
    else:
        result.lines[row] = None
