"""``mfx pitfall``: print an entry of the pitfall catalogue (:mod:`mfx.pitfalls`)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

from mfx import pitfalls as catalogue
from mfx.errors import UsageError


def _capabilities(pid: str) -> list[str]:
    """``kind/id`` of the compliance capabilities that check ``pid`` (none without the suite)."""
    if importlib.util.find_spec("mfx.compliance.capabilities") is None:  # pragma: no cover - trimmed install
        return []
    from mfx.compliance.capabilities import REGISTRY

    return [f"{cap.id} ({cap.kind}, {cap.level})" for cap in REGISTRY.values() if pid in cap.pitfalls]


def entry_text(p: catalogue.Pitfall) -> str:
    from mfx.ruledocs import rules_by_code

    rules = [f"{code} {rule.name}" for code, rule in sorted(rules_by_code().items()) if p.id in rule.pitfalls]
    caps = _capabilities(p.id)
    lines = [
        f"{p.id}. {p.title}",
        "",
        textwrap.fill(f"{p.kind.capitalize()} pitfall: {p.summary}", width=100),
        "",
        f"Detected by mfx check: {', '.join(rules) or 'no rule'}",
        f"Checked by mfx compliance: {', '.join(caps) or 'no capability'}",
        f"More: {p.url}",
    ]
    return "\n".join(lines) + "\n"


def run_pitfall(args) -> int:
    if args.all:
        sys.stdout.write("".join(f"{p.id:<4} {p.kind:<12} {p.title}\n" for p in catalogue.all_pitfalls()))
        return 0
    if not args.id:
        raise UsageError("give a pitfall id (mfx pitfall O21) or --all")
    try:
        pitfall = catalogue.get(args.id)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    sys.stdout.write(entry_text(pitfall))
    return 0
