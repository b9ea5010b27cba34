"""``mfx check``: discover, lint (or fix), print, choose the exit code."""

from __future__ import annotations

import collections
import difflib
import sys
from pathlib import Path

from mfx.config import build_settings, load_file_config
from mfx.discovery import discover
from mfx.errors import UsageError
from mfx.output import Report, render

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


def _split(values) -> list[str] | None:
    if values is None:
        return None
    return [part for value in values for part in value.split(",") if part.strip()]


def run_check(args) -> int:
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (all cores) or a positive number")
    cwd = Path.cwd()
    config_path = Path(args.config) if args.config else None
    first = Path(args.paths[0]) if args.paths else cwd
    search_from = first if first.is_dir() else (first.parent if first.exists() else cwd)
    file_config = load_file_config(config_path, search_from)
    settings = build_settings(
        file_config,
        select=_split(args.select),
        extend_select=_split(args.extend_select) or (),
        ignore=_split(args.ignore) or (),
        exclude=_split(args.exclude),
        extend_exclude=_split(args.extend_exclude) or (),
        cache_dir=args.cache_dir,
    )
    files = discover(args.paths, settings.root, settings.exclude)
    fixed_count = 0
    if args.fix or args.diff:
        from mfx.engine.fixer import fix_paths

        outcome = fix_paths(files, settings, unsafe=args.unsafe_fixes, write=not args.diff)
        result = outcome.result
        fixed_count = outcome.total_fixed
        if args.diff:
            return _print_diff(outcome, settings.root, cwd, args)
    else:
        from mfx.engine.lint import lint_paths

        result = lint_paths(files, settings, jobs=args.jobs, use_cache=not args.no_cache)
    report = Report(
        root=settings.root,
        files=result.files,
        diagnostics=result.diagnostics,
        texts={p: s.text for p, s in result.sources.items()},
        unsafe_fixes=args.unsafe_fixes,
        fixed=fixed_count,
        enabled_codes=settings.enabled,
        cwd=cwd,
        quiet=args.quiet,
    )
    if args.statistics:
        text = _statistics(report, args.output_format)
    else:
        text = render(args.output_format, report)
    if args.show_fixes and (args.fix) and args.output_format in ("concise", "full"):
        text += _show_fixes(outcome.fixed_counts, report)
    _emit(text, args.output_file)
    if _report_load_errors():
        return 2
    if args.exit_zero or not result.diagnostics:
        return EXIT_CLEAN
    return EXIT_FINDINGS


def _emit(text: str, output_file: str | None) -> None:
    if output_file:
        try:
            Path(output_file).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output_file}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _statistics(report: Report, fmt: str) -> str:
    counts = collections.Counter(d.code for d in report.diagnostics)
    names = {d.code: d.name for d in report.diagnostics}
    fixable = {d.code for d in report.diagnostics if report.fixable(d)}
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if fmt == "json":
        import json

        data = [{"code": c, "name": names[c], "count": n, "fixable": c in fixable} for c, n in rows]
        return json.dumps(data, indent=2) + "\n"
    if not rows:
        return "All checks passed!\n"
    width = max(len(str(n)) for _, n in rows)
    lines = [f"{n:>{width}}\t{c}\t{'[*] ' if c in fixable else ''}{names[c]}" for c, n in rows]
    return "\n".join(lines) + f"\nFound {sum(counts.values())} errors.\n"


def _show_fixes(fixed_counts, report: Report) -> str:
    if not fixed_counts:
        return "No errors fixed.\n"
    total = sum(sum(c.values()) for c in fixed_counts.values())
    lines = [f"Fixed {total} error{'s' if total != 1 else ''}:"]
    for path in sorted(fixed_counts):
        lines.append(f"- {report.display(path)}:")
        for code, n in sorted(fixed_counts[path].items()):
            lines.append(f"    {n} × {code}")
    return "\n".join(lines) + "\n"


def _print_diff(outcome, root: Path, cwd: Path, args) -> int:
    chunks = []
    for relpath in sorted(outcome.fixed):
        absolute = root / relpath
        try:
            shown = absolute.relative_to(cwd).as_posix()
        except ValueError:
            shown = absolute.as_posix()
        before = outcome.original[relpath].splitlines(keepends=True)
        after = outcome.fixed[relpath].splitlines(keepends=True)
        diff = difflib.unified_diff(before, after, fromfile=shown, tofile=shown)
        chunks.append("".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff))
    _emit("".join(chunks), args.output_file)
    n = outcome.total_fixed
    if n:
        print(f"Would fix {n} error{'s' if n != 1 else ''}.", file=sys.stderr)
        return EXIT_FINDINGS
    print("No errors would be fixed.", file=sys.stderr)
    return EXIT_CLEAN


def _report_load_errors() -> bool:
    """Rule modules that failed to import were skipped: say so on stderr (exit 2)."""
    runner = sys.modules.get("mfx.engine.runner")
    errors = getattr(runner, "LOAD_ERRORS", {}) if runner is not None else {}
    for name, message in sorted(errors.items()):
        print(f"mfx: internal error: rule module {name} could not be loaded and was skipped: {message}", file=sys.stderr)
    return bool(errors)
