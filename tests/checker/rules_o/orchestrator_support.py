"""Helpers shared by the orchestrator-rule tests (pitfalls O1–O32).

Not a conftest.py: tests/checker/conftest.py is imported by name elsewhere."""

from __future__ import annotations

from pathlib import Path

from mfx.engine.runner import all_rules


def orchestrator_rules():
    """The rules of the orchestrator ranges (MFX001–019, MFX1xx, MFX2xx), except MFX101, whose
    qualified-name analysis is slow on Argo's 4000-line compiler and is covered elsewhere."""
    return [
        r
        for r in all_rules()
        if (1 <= int(r.code[3:]) <= 19 or 100 <= int(r.code[3:]) <= 299) and r.code != "MFX101"
    ]


def core_sources(*subdirs: str) -> dict[str, str]:
    """Sources of Metaflow's own plugins keyed by path relative to site-packages (so module
    names resolve), plus ``metaflow/plugins/__init__.py`` which registers them."""
    import metaflow

    site = Path(metaflow.__file__).resolve().parents[1]
    out = {}
    for sub in subdirs:
        for path in sorted((site / "metaflow" / sub).rglob("*.py")):
            out[path.relative_to(site).as_posix()] = path.read_text(encoding="utf-8")
    init = site / "metaflow" / "plugins" / "__init__.py"
    out[init.relative_to(site).as_posix()] = init.read_text(encoding="utf-8")
    return out


