"""Output formats of ``mfx check``: one module per format, all fed the same :class:`Report`."""

from __future__ import annotations

from mfx.output.report import Report

FORMATS = ("concise", "full", "json", "github", "sarif", "junit")


def render(fmt: str, report: Report) -> str:
    """The text to print for ``--output-format fmt`` (ends with a newline when not empty)."""
    if fmt == "concise":
        from mfx.output.text import render_concise

        return render_concise(report)
    if fmt == "full":
        from mfx.output.text import render_full

        return render_full(report)
    if fmt == "json":
        from mfx.output.json_format import render_json

        return render_json(report)
    if fmt == "github":
        from mfx.output.github import render_github

        return render_github(report)
    if fmt == "sarif":
        from mfx.output.sarif import render_sarif

        return render_sarif(report)
    if fmt == "junit":
        from mfx.output.junit import render_junit

        return render_junit(report)
    raise ValueError(f"unknown output format {fmt!r}")


__all__ = ["FORMATS", "Report", "render"]
