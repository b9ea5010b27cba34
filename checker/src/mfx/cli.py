"""The ``mfx`` command: ``mfx check``, ``mfx rule``, ``mfx pitfall``, ``mfx new``, ``mfx compliance``.

Exit codes (as ruff): 0 nothing found, 1 findings remain (or ``--diff`` would change files),
2 bad options / configuration, or an unexpected error (one line on stderr, never a traceback;
set ``MFX_DEBUG=1`` to see the traceback).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Sequence

from mfx import __version__
from mfx.errors import CommandLineError, UsageError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every usage error gets the same exit code 2
    and one clear line."""

    def error(self, message: str):  # type: ignore[override]
        raise CommandLineError(self.prog, f"{message} (see `{self.prog} --help`)")


def _check_parser(sub) -> None:
    p = sub.add_parser("check", help="lint Metaflow extension code", description="Lint Python files for Metaflow extension pitfalls.")
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories (default: .)")
    p.add_argument("--select", action="append", metavar="CODES", help="rules to enable, replacing the configured set (codes or prefixes, comma separated; ALL)")
    p.add_argument("--extend-select", action="append", default=[], metavar="CODES", help="rules to enable in addition")
    p.add_argument("--ignore", action="append", default=[], metavar="CODES", help="rules to disable")
    p.add_argument("--exclude", action="append", metavar="GLOB", help="replace the configured exclude patterns")
    p.add_argument("--extend-exclude", action="append", default=[], metavar="GLOB", help="more exclude patterns")
    p.add_argument("--fix", action="store_true", help="apply safe fixes")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply (and show as fixable) unsafe fixes")
    p.add_argument("--diff", action="store_true", help="print the fixes as a unified diff and change nothing")
    p.add_argument("--show-fixes", action="store_true", help="list what --fix fixed")
    p.add_argument("--output-format", default=os.environ.get("MFX_OUTPUT_FORMAT", "concise"), choices=_formats(), help="how to print findings (default: concise)")
    p.add_argument("--statistics", action="store_true", help="print the number of findings per rule instead of the findings")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--cache-dir", metavar="DIR", help="cache directory (default: .mfx_cache next to the configuration)")
    p.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="worker processes (default: number of cores)")
    p.add_argument("--config", metavar="PATH", help="read [tool.mfx] from this file instead of the nearest pyproject.toml")
    p.add_argument("-o", "--output-file", metavar="PATH", help="write the report to this file instead of stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")


def _formats() -> tuple[str, ...]:
    from mfx.output import FORMATS

    return FORMATS


def _rule_parser(sub) -> None:
    p = sub.add_parser("rule", help="print rule documentation; `mfx rule new` writes a new rule", description="Print rule documentation, or generate docs/rules and the README table. `mfx rule new CODE NAME` writes the skeleton of a new rule (see `mfx rule new --help`).")
    p.add_argument("code", nargs="?", help="a rule code such as MFX101")
    p.add_argument("--all", action="store_true", help="every rule")
    p.add_argument("--format", "--output-format", choices=("md", "text", "json"), default="text", dest="fmt",
                   help="markdown, plain text or JSON, a list of objects as `ruff rule --output-format json` (default: text)")
    p.add_argument("--write-docs", metavar="DIR", help="write one page per rule and index.md into DIR")
    p.add_argument("--check-docs", metavar="DIR", help="exit 1 if DIR differs from what --write-docs would write")
    p.add_argument("--update-table", metavar="FILE", help="rewrite the rule table between the mfx-rules markers in FILE")
    p.add_argument("--check-table", metavar="FILE", help="exit 1 if the rule table in FILE is stale")
    p.add_argument("--link-prefix", default="docs/rules/", help="where the rule pages are, relative to FILE (tables)")


def _pitfall_parser(sub) -> None:
    p = sub.add_parser("pitfall", help="explain a known pitfall (O1-O32, B1-B28)", description="Print a pitfall of the catalogue: what goes wrong, the rules that detect it, the compliance capabilities that check it.")
    p.add_argument("id", nargs="?", help="a pitfall id such as O21 or B12")
    p.add_argument("--all", action="store_true", help="list every pitfall, one per line")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mfx", description="Lint rules and a compliance suite for Metaflow extensions.")
    parser.add_argument("--version", action="version", version=f"mfx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _check_parser(sub)
    _rule_parser(sub)
    _pitfall_parser(sub)
    from mfx.commands.new import add_parser as _new_parser  # imports nothing heavy; copier only when run

    _new_parser(sub)
    sub.add_parser("compliance", help="run the compliance suite (pytest arguments follow)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["compliance"]:
            return _compliance(argv[1:])
        if argv[:2] == ["rule", "new"]:
            from mfx.commands.rulenew import run_rule_new

            return run_rule_new(argv[2:])
        args, unknown = build_parser().parse_known_args(argv)
        if unknown:  # name the command they were given to, as its own parser would
            prog = f"mfx {args.command}" if args.command else "mfx"
            raise CommandLineError(prog, f"unrecognized arguments: {' '.join(unknown)} (see `{prog} --help`)")
        if args.command == "check":
            from mfx.commands.check import run_check

            return run_check(args)
        if args.command == "rule":
            from mfx.commands.rule import run_rule

            return run_rule(args)
        if args.command == "pitfall":
            from mfx.commands.pitfall import run_pitfall

            return run_pitfall(args)
        if args.command == "new":
            from mfx.commands.new import run_new

            return run_new(args)
        build_parser().print_help()
        return EXIT_ERROR
    except CommandLineError as exc:
        print(f"{exc.prog}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except UsageError as exc:
        print(f"mfx: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("mfx: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as exc:  # the last line of defence: one line, exit 2
        if os.environ.get("MFX_DEBUG"):
            raise
        print(f"mfx: internal error: {type(exc).__name__}: {exc} (set MFX_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_ERROR


def _compliance(argv: list[str]) -> int:
    """``mfx compliance`` belongs to the compliance suite; dispatch if it is installed."""
    if importlib.util.find_spec("mfx.compliance.cli") is None:
        print(
            "mfx: error: the compliance suite is not available in this installation "
            "(mfx.compliance.cli is missing); install `mfx[compliance]`",
            file=sys.stderr,
        )
        return EXIT_ERROR
    from mfx.compliance.cli import main as compliance_main

    return int(compliance_main(argv) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
