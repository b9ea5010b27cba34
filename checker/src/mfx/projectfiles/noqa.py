"""``# noqa`` in TOML and YAML files: the same syntax and meaning as in Python files.

``# noqa: MFX025`` at the end of a line suppresses that code on the line; ``# mfx: noqa`` /
``# mfx: noqa: MFX026`` anywhere suppresses for the whole file. Only real comments count: a ``#``
inside a TOML string is text. In YAML a ``#`` starts a comment at the start of a line or after
whitespace, outside quotes; inside a ``run: |`` block that is also where the shell starts a
comment, so ``pytest a b  # noqa: MFX026`` in a workflow step is both harmless shell and a
suppression.
"""

from __future__ import annotations

from typing import Iterator

# The Python-file implementation owns the comment grammar; reuse it so both agree.
from mfx.engine.noqa import NoqaMap, add_comment


def _toml_comments(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line, comment text) for every TOML comment, skipping strings."""
    open_delim = ""  # the delimiter of the string we are in ("", '"', "'", '\"\"\"', "'''")
    for number, line in enumerate(text.splitlines(), start=1):
        i = 0
        if open_delim in ('"', "'"):
            open_delim = ""  # single-line strings cannot span lines (tomllib would reject it)
        while i < len(line):
            if open_delim:
                if open_delim in ('"', '"""') and line[i] == "\\":  # basic strings have escapes
                    i += 2
                    continue
                if line.startswith(open_delim, i):
                    i += len(open_delim)
                    open_delim = ""
                    continue
                i += 1
                continue
            if line.startswith('"""', i) or line.startswith("'''", i):
                open_delim = line[i : i + 3]
                i += 3
            elif line[i] in "\"'":
                open_delim = line[i]
                i += 1
            elif line[i] == "#":
                yield number, line[i:]
                break
            else:
                i += 1


def _yaml_comments(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line, comment text) for ``#`` at a line start or after whitespace, outside
    single-line quotes."""
    for number, line in enumerate(text.splitlines(), start=1):
        quote = ""
        for i, ch in enumerate(line):
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "\"'" and (i == 0 or line[i - 1] in " \t:[{,-"):
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
                yield number, line[i:]
                break


def parse_noqa(text: str, kind: str) -> NoqaMap:
    comments = _toml_comments(text) if kind == "toml" else _yaml_comments(text)
    result = NoqaMap()
    for row, comment in comments:
        add_comment(result, row, comment)
    return result
