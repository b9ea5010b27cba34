"""``--output-format sarif``: SARIF 2.1.0, for GitHub code scanning and other viewers.

Every enabled rule is described in ``tool.driver.rules`` (its documentation page as
``fullDescription``); regions are 1-based, as SARIF requires. The test suite validates the
output against the official SARIF 2.1.0 JSON schema.
"""

from __future__ import annotations

import json
from typing import Any

from mfx import __version__
from mfx.output.report import Report
from mfx.registry import docs_url

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _rules(codes: list[str]) -> list[dict[str, Any]]:
    from mfx.ruledocs import describe

    out = []
    for code in codes:
        info = describe(code)
        out.append(
            {
                "id": code,
                "name": info.name,
                "shortDescription": {"text": info.summary},
                "fullDescription": {"text": info.doc_text, "markdown": info.doc_markdown},
                "help": {"text": info.summary, "markdown": info.doc_markdown},
                "helpUri": docs_url(code),
                "defaultConfiguration": {"level": "error"},
                "properties": {"pitfalls": list(info.pitfalls), "fix": info.fix or "none"},
            }
        )
    return out


def render_sarif(report: Report) -> str:
    codes = sorted({d.code for d in report.diagnostics} | set(report.enabled_codes))
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for d in report.diagnostics:
        results.append(
            {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": "error",
                "message": {"text": d.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": report.display(d.path)},
                            "region": {
                                "startLine": d.line,
                                "startColumn": d.column,
                                "endLine": d.end_line,
                                "endColumn": d.end_column,
                            },
                        }
                    }
                ],
            }
        )
    doc = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mfx",
                        "version": __version__,
                        "informationUri": docs_url("index"),
                        "rules": _rules(codes),
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
