"""Shared helpers for the orchestrator-rule tests: which rules are ours, and core sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from mfx.engine.runner import all_rules

#: Code ranges owned by the orchestrator rules (O1–O31).
ORCHESTRATOR_CODES = [
    r for r in all_rules()
    if 1 <= int(r.code[3:]) <= 19 or 100 <= int(r.code[3:]) <= 299
]


def core_sources(*subdirs: str) -> dict[str, str]:
    """Sources of Metaflow's own plugins, keyed by path relative to site-packages."""
    import metaflow

    site = Path(metaflow.__file__).resolve().parents[1]
    out = {}
    for sub in subdirs:
        for path in sorted((site / "metaflow" / sub).rglob("*.py")):
            out[path.relative_to(site).as_posix()] = path.read_text(encoding="utf-8")
    init = site / "metaflow" / "plugins" / "__init__.py"
    out[init.relative_to(site).as_posix()] = init.read_text(encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def orchestrator_rules():
    return ORCHESTRATOR_CODES
