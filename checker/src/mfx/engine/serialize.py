"""Diagnostics to and from plain JSON data (for the cache and the worker processes)."""

from __future__ import annotations

from typing import Any

from mfx.applicability import Applicability
from mfx.engine.diagnostic import Diagnostic, Edit, FixEdit


def to_data(d: Diagnostic) -> dict[str, Any]:
    fix = None
    if d.fix is not None:
        fix = {
            "a": d.fix.applicability.value,
            "t": d.fix.title,
            "e": [[list(e.start), list(e.end), e.content] for e in d.fix.edits],
        }
    return {
        "c": d.code,
        "n": d.name,
        "m": d.message,
        "p": d.path,
        "r": [d.line, d.column, d.end_line, d.end_column],
        "f": fix,
    }


def from_data(data: dict[str, Any]) -> Diagnostic:
    fix = None
    if data.get("f"):
        f = data["f"]
        fix = FixEdit(
            edits=tuple(Edit(start=tuple(s), end=tuple(e), content=c) for s, e, c in f["e"]),
            applicability=Applicability(f["a"]),
            title=f["t"],
        )
    line, column, end_line, end_column = data["r"]
    return Diagnostic(
        code=data["c"],
        name=data["n"],
        message=data["m"],
        path=data["p"],
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        fix=fix,
    )
