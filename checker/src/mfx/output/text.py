"""The human formats: ``concise`` (one line per finding) and ``full`` (with the source)."""

from __future__ import annotations

from mfx.engine.diagnostic import Diagnostic
from mfx.output.report import Report


def _header(report: Report, d: Diagnostic) -> str:
    mark = " [*]" if report.fixable(d) else ""
    return f"{report.display(d.path)}:{d.line}:{d.column}: {d.code}{mark} {d.message}"


def summary(report: Report) -> str:
    if report.quiet:
        return ""
    n = len(report.diagnostics)
    lines = []
    if n == 0 and not report.fixed:
        return "All checks passed!\n"
    noun = "error" if n + report.fixed == 1 else "errors"
    if report.fixed:
        lines.append(f"Found {n + report.fixed} {noun} ({report.fixed} fixed, {n} remaining).")
    else:
        lines.append(f"Found {n} {noun}.")
    fixable = sum(1 for d in report.diagnostics if report.fixable(d))
    if fixable:
        lines.append(f"[*] {fixable} fixable with --fix.")
    hidden = report.hidden_unsafe()
    if hidden:
        lines.append(f"({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with --unsafe-fixes.)")
    return "\n".join(lines) + "\n"


def render_concise(report: Report) -> str:
    body = "".join(_header(report, d) + "\n" for d in report.diagnostics)
    return body + summary(report)


def render_full(report: Report) -> str:
    out = []
    for d in report.diagnostics:
        out.append(_header(report, d))
        out.extend(_snippet(report, d))
        if d.fix is not None:
            title = d.fix.title or "apply the fix"
            how = "--fix" if report.fixable(d) else "--fix --unsafe-fixes"
            out.append(f"  = help: {title} ({d.fix.applicability.value} fix, {how})")
        else:
            out.append(f"  = help: see `mfx rule {d.code}`")
        out.append("")
    return "\n".join(out) + ("\n" if out else "") + summary(report)


def _snippet(report: Report, d: Diagnostic) -> list[str]:
    first = max(1, d.line - 1)
    last = d.end_line if d.end_line >= d.line else d.line
    last = min(last, d.line + 4)
    width = len(str(last))
    pad = " " * width
    lines = [f"{pad} |"]
    for n in range(first, last + 1):
        text = report.line_text(d.path, n).expandtabs(1)
        lines.append(f"{n:>{width}} | {text}")
        if d.line <= n <= d.end_line:
            start = d.column if n == d.line else 1 + (len(text) - len(text.lstrip()))
            end = d.end_column if n == d.end_line else len(text) + 1
            if end <= start:
                end = start + 1
            lines.append(f"{pad} | {' ' * (start - 1)}{'^' * (end - start)}")
    lines.append(f"{pad} |")
    return lines
