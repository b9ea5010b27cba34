"""Generate the capability tables of ``docs/compliance.md`` from :mod:`capabilities`.

``python -m mfx.compliance.docs PATH`` rewrites the part of PATH between the markers below;
``--check`` exits 1 when the file is out of date (the template's tests run the check).

The same page is shipped in the package (``mfx/compliance/compliance.md``) so an installed mfx can
show it (``mfx compliance --docs``) without a checkout: this command writes (or checks) that copy too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from .capabilities import BACKEND, ORCHESTRATOR, for_kind

BEGIN = "<!-- BEGIN GENERATED: capabilities (python -m mfx.compliance.docs docs/compliance.md) -->"
END = "<!-- END GENERATED: capabilities -->"


def capability_tables() -> str:
    """Markdown tables, one per kind, in registry order."""
    out: List[str] = []
    for kind in (ORCHESTRATOR, BACKEND):
        caps = for_kind(kind)
        if not caps:
            continue
        out += [f"### {kind.capitalize()} capabilities", "", "| id | level | what is checked | pitfalls |", "|---|---|---|---|"]
        out += [f"| `{c.id}` | {c.level} | {c.title} | {', '.join(c.pitfalls) or '-'} |" for c in caps]
        out.append("")
    return "\n".join(out)


def render(text: str) -> str:
    """``text`` with the generated block replaced (markers must exist)."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"markers not found; add\n{BEGIN}\n{END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{capability_tables()}{END}{tail}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfx.compliance.docs")
    parser.add_argument("path")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    path = Path(args.path)
    try:
        current = path.read_text(encoding="utf-8")
        wanted = render(current)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{path}: {exc}\n")
        return 2
    copy = packaged_copy()
    if args.check:
        stale = [str(p) for p, text in ((path, current), (copy, _read(copy))) if text != wanted]
        if stale:
            sys.stderr.write(f"{', '.join(stale)} out of date: run python -m mfx.compliance.docs {path}\n")
            return 1
        return 0
    path.write_text(wanted, encoding="utf-8")
    copy.write_text(wanted, encoding="utf-8")
    return 0


def packaged_copy() -> Path:
    """The guide as shipped in the package (``mfx compliance --docs`` prints it)."""
    from .cli import GUIDE

    return GUIDE


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
