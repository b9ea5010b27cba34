"""TOML project files: values from ``tomllib``, positions from a small line scanner.

``tomllib`` (``tomli`` before 3.11) gives values but no positions. Diagnostics must point at the
offending key, so :class:`KeyPositions` scans the text once for table headers (``[a.b]``,
``[[a.b]]``) and ``key = value`` lines (dotted and quoted keys included) and records where each
full key path starts. Keys inside inline tables are not recorded: :meth:`KeyPositions.find`
then answers with the closest enclosing key that was, which is the line a user would edit.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Optional, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib


_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_KEY_RE = re.compile(rf"^(?P<indent>\s*)(?P<key>{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=")
_HEADER_RE = re.compile(rf"^\s*\[\[?\s*(?P<key>{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*\]\]?")
_PART_RE = re.compile(_BARE_OR_QUOTED)


class TomlError(Exception):
    """The file is not valid TOML; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def parse(text: str) -> dict[str, Any]:
    """The document, or :class:`TomlError` with the position tomllib names in its message."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line, column = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        message = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", message)
        raise TomlError(message, line, column) from None


def _split_key(raw: str) -> tuple[str, ...]:
    parts = []
    for match in _PART_RE.finditer(raw):
        part = match.group(0)
        if part[:1] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


class KeyPositions:
    """Where each key path (``("build-system", "build-backend")``) is written in the text."""

    def __init__(self, text: str) -> None:
        self.positions: dict[tuple[str, ...], tuple[int, int]] = {}
        self.ends: dict[tuple[str, ...], tuple[int, int]] = {}  # just after the key / header
        table: tuple[str, ...] = ()
        in_multiline: Optional[str] = None  # the delimiter of an open multi-line string
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline is not None:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            header = _HEADER_RE.match(line)
            if header and not _KEY_RE.match(line):
                table = _split_key(header.group("key"))
                if table not in self.positions:
                    self.positions[table] = (number, line.index("[") + 1)
                    self.ends[table] = (number, header.end() + 1)
                continue
            key = _KEY_RE.match(line)
            if key:
                path = table + _split_key(key.group("key"))
                if path not in self.positions:
                    self.positions[path] = (number, len(key.group("indent")) + 1)
                    self.ends[path] = (number, key.end("key") + 1)
                rest = line[key.end():]
                for delim in ('"""', "'''"):
                    if rest.count(delim) % 2 == 1:
                        in_multiline = delim
                        break

    def find(self, path: Sequence[str]) -> tuple[int, int]:
        """The position of ``path``, else of its closest recorded parent, else the file's start."""
        return self.span(path)[0]

    def span(self, path: Sequence[str]) -> tuple[tuple[int, int], tuple[int, int]]:
        """(start, end) of the key ``path`` (or of its closest recorded parent) as written."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path], self.ends[path]
            path = path[:-1]
        return (1, 1), (1, 1)
