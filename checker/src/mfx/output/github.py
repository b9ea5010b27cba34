"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""

from __future__ import annotations

from mfx.output.report import Report


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    out = []
    for d in report.diagnostics:
        props = ",".join(
            [
                f"title={_escape_property(f'mfx ({d.code})')}",
                f"file={_escape_property(report.display(d.path))}",
                f"line={d.line}",
                f"col={d.column}",
                f"endLine={d.end_line}",
                f"endColumn={d.end_column}",
            ]
        )
        out.append(f"::error {props}::{_escape_data(f'{d.code} {d.message}')}\n")
    return "".join(out)
