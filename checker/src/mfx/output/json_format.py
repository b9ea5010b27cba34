"""``--output-format json``: a list of findings with ruff's keys.

The schema is ``docs/lint/json-output.schema.json``; the test suite validates real output
against it, so the two cannot drift.
"""

from __future__ import annotations

import json
from typing import Any

from mfx.engine.diagnostic import Diagnostic
from mfx.output.report import Report
from mfx.registry import docs_url


def diagnostic_json(report: Report, d: Diagnostic) -> dict[str, Any]:
    fix = None
    if d.fix is not None:
        fix = {
            "applicability": d.fix.applicability.value,
            "message": d.fix.title or None,
            "edits": [
                {
                    "content": e.content,
                    "location": {"row": e.start[0], "column": e.start[1]},
                    "end_location": {"row": e.end[0], "column": e.end[1]},
                }
                for e in d.fix.edits
            ],
        }
    return {
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "filename": str(report.absolute(d.path)),
        "location": {"row": d.line, "column": d.column},
        "end_location": {"row": d.end_line, "column": d.end_column},
        "fix": fix,
        "url": docs_url(d.code),
        "noqa_row": report.noqa_row(d),
    }


def render_json(report: Report) -> str:
    return json.dumps([diagnostic_json(report, d) for d in report.diagnostics], indent=2) + "\n"
