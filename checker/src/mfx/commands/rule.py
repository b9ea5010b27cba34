"""``mfx rule``: print rule documentation; generate and drift-check docs/rules and tables."""

from __future__ import annotations

import sys
from pathlib import Path

from mfx.errors import UsageError


def run_rule(args) -> int:
    from mfx import ruledocs

    if args.write_docs:
        changed = ruledocs.write_docs(Path(args.write_docs))
        print(f"{len(changed)} file(s) updated in {args.write_docs}" if changed else f"{args.write_docs} is up to date")
        return 0
    if args.check_docs:
        problems = ruledocs.check_docs(Path(args.check_docs))
        if problems:
            print(f"{args.check_docs} is out of date: {', '.join(problems)}", file=sys.stderr)
            print(f"refresh with: mfx rule --write-docs {args.check_docs}", file=sys.stderr)
            return 1
        print(f"{args.check_docs} is up to date")
        return 0
    for option in ("update_table", "check_table"):
        target = getattr(args, option)
        if target and not Path(target).is_file():
            raise UsageError(f"{target}: no such file")
    if args.update_table:
        changed = ruledocs.update_table(Path(args.update_table), args.link_prefix)
        print(f"{args.update_table}: rule table {'updated' if changed else 'is up to date'}")
        return 0
    if args.check_table:
        if not ruledocs.check_table(Path(args.check_table), args.link_prefix):
            print(f"{args.check_table}: the rule table is out of date; refresh with: mfx rule --update-table {args.check_table}", file=sys.stderr)
            return 1
        print(f"{args.check_table}: rule table is up to date")
        return 0
    if args.all:
        infos = ruledocs.all_infos()
    elif args.code:
        try:
            infos = [ruledocs.describe(args.code.strip().upper())]
        except KeyError:
            raise UsageError(f"unknown rule code {args.code!r}; `mfx rule --all` lists them") from None
    else:
        raise UsageError("give a rule code (mfx rule MFX101), --all, or one of the docs options")
    if args.fmt == "json":
        import json

        sys.stdout.write(json.dumps([ruledocs.rule_json(i) for i in infos], indent=2) + "\n")
        return 0
    render = ruledocs.rule_page if args.fmt == "md" else ruledocs.rule_text
    sys.stdout.write("\n".join(render(i) for i in infos))
    return 0
