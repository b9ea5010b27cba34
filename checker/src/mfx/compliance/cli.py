"""``mfx compliance [--project DIR] [--report-dir DIR] [pytest args...]``, ``mfx compliance init``, ``mfx compliance --docs``.

Runs pytest on the suite's own test package (inside mfx, never the CWD) with the plugin active,
writes JUnit XML and the Markdown capability matrix to the report dir, and bounds every test
with pytest-timeout. The exit code is pytest's; a configuration error is one line, exit 2, before
pytest starts. The closing line names only the reports this session really wrote.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

SUITE = Path(__file__).resolve().parent
DEFAULT_TEST_TIMEOUT = 900  # seconds per test, incl. the devstack start in the first one
GUIDE = SUITE / "compliance.md"  # docs/compliance.md, shipped in the package (python -m mfx.compliance.docs writes both)
REPORTS = ("compliance.md", "compliance.json", "compliance.xml")


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line (no usage block), exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="mfx compliance",
        description="Run the mfx compliance suite against a live engine (the devstack is started and stopped for you).",
        epilog="Any other argument is passed to pytest, e.g. -k test_retry, -x, --mfx-run-timeout 600. "
        "`mfx compliance init --help`: set up a repository for the suite.",
    )
    parser.add_argument("--docs", action="store_true", help="print the suite's guide (configuration, capabilities) and exit")
    parser.add_argument("--project", default=".", help="extension repository with [tool.mfx.compliance] (default: .)")
    parser.add_argument("--report-dir", default=None, help="where compliance.xml and compliance.md go (default: <project>/reports)")
    return parser


def pytest_args(project: Path, report_dir: Path, kind: str, extra: Sequence[str]) -> List[str]:
    """The full pytest command line (also used by tests to check what the CLI runs)."""
    return [
        str(SUITE / "tests" / kind),
        "--mfx-compliance",
        f"--mfx-project={project}",
        f"--mfx-report-md={report_dir / 'compliance.md'}",
        f"--junitxml={report_dir / 'compliance.xml'}",
        f"--rootdir={SUITE}",
        "-c",
        str(SUITE / "suite_pytest.toml"),
        "-p",
        "no:cacheprovider",
        f"--timeout={DEFAULT_TEST_TIMEOUT}",
        "-rfEs",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *extra,
    ]


def print_docs(out=None) -> int:
    """``mfx compliance --docs``: the guide as installed with mfx (works from a wheel, no checkout needed)."""
    out = out or sys.stdout
    try:
        text = GUIDE.read_text(encoding="utf-8")
    except OSError as exc:
        sys.stderr.write(f"mfx compliance: the guide is missing from this installation ({GUIDE}: {exc.strerror})\n")
        return 2
    out.write(f"<!-- {GUIDE} -->\n{text}")
    return 0


def written_reports(report_dir: Path, since: float) -> List[Path]:
    """The report files of ``report_dir`` written at or after ``since`` (an old report is not this run's)."""
    found = []
    for name in REPORTS:
        path = report_dir / name
        try:
            if path.stat().st_mtime >= since:
                found.append(path)
        except OSError:
            pass
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``mfx compliance``; returns pytest's exit code (2 on a usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["init"]:
        from .init import main as init_main

        return init_main(argv[1:])
    from .config import ConfigError, validate

    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error already printed in one line (2)
        return int(exc.code or 0)
    if args.docs:
        return print_docs()
    project = Path(args.project).resolve()
    try:
        cfg, _ = validate(project)
    except ConfigError as exc:
        sys.stderr.write(f"mfx compliance: {exc}\n")
        return 2
    tests = SUITE / "tests" / cfg.kind
    if not tests.is_dir():
        sys.stderr.write(f"mfx compliance: this mfx has no {cfg.kind} tests ({tests} is missing)\n")
        return 2
    report_dir = Path(args.report_dir).resolve() if args.report_dir else project / "reports"
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        sys.stderr.write(f"mfx compliance: cannot create the report directory {report_dir}: {exc.strerror}\n")
        return 2
    import importlib.util

    for needed in ("pytest", "pytest_timeout", "metaflow"):  # pytest-timeout: the per-test bound is part of the contract
        if importlib.util.find_spec(needed) is None:
            sys.stderr.write(f"mfx compliance: {needed} is missing: pip install 'mfx[compliance]'\n")
            return 2
    import pytest
    extra_args = list(extra)
    import os

    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        extra_args = ["-p", "mfx.compliance.plugin", "-p", "pytest_timeout", *extra_args]
    import time

    started = time.time() - 1  # file systems with coarse mtimes
    code = pytest.main(pytest_args(project, report_dir, cfg.kind, extra_args))
    written = written_reports(report_dir, started)
    if written:
        sys.stdout.write(f"mfx compliance: report written to {report_dir} ({', '.join(p.name for p in written)})\n")
    else:
        sys.stdout.write(f"mfx compliance: no report written (pytest exited {int(code)} before the session produced one)\n")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
