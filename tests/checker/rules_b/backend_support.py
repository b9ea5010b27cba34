"""Shared helpers of the compute-backend and security rule tests."""

from __future__ import annotations

from pathlib import Path

import metaflow
from mfx.engine.runner import all_rules

#: The rule families this directory tests: backend registration, compute backend, security.
BACKEND_CODES = tuple(f"MFX0{n:02d}" for n in range(20, 40))


def backend_rules():
    return [r for r in all_rules() if r.code in BACKEND_CODES or r.code[3] in "34"]


def site_packages() -> Path:
    return Path(metaflow.__file__).resolve().parents[1]


def core_sources(*subdirs: str) -> dict:
    """``{path relative to site-packages: source}`` of Metaflow's own modules, so that dotted
    module names (``metaflow.plugins.kubernetes...``) resolve as they do at run time."""
    root = site_packages()
    out = {}
    for sub in subdirs:
        base = root / "metaflow" / sub
        paths = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for p in paths:
            out[p.relative_to(root).as_posix()] = p.read_text(encoding="utf-8")
    return out


def tree_sources(directory: Path) -> dict:
    """``{path relative to directory: source}`` of every module under ``directory``."""
    return {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(directory.rglob("*.py"))
        if ".dist-info" not in p.parts
    }
