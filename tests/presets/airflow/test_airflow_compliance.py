"""End-to-end proof: a generated `preset=airflow` repository passes the compliance suite on Airflow 3.

The repository is rendered from the template (working tree included) and installed into its own
venv (uv, shared cache); then ``<venv>/bin/mfx compliance`` runs exactly as ``nox -s compliance``
does, except that it reuses this session's Airflow devstack (``MFX_DEVSTACK_ENV``, conftest.py)
instead of starting a second one: the devstack's settings are named after the module
``mf_airflow``, which is the generated repository's default (engine name ``mf-airflow``). Every
REQUIRED capability must pass, and so must the optional ones the preset declares.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from compliance.baselines import record
from support.airflow_devstack import MODULE_NAME
from support.generate import make_venv, render, run

pytestmark = pytest.mark.slow  # a real Airflow, a generated repository

SUITE_TIMEOUT = 900


def test_generated_airflow_repo_passes_the_compliance_suite(airflow_devstack, tmp_path_factory: pytest.TempPathFactory) -> None:
    repo = render(tmp_path_factory.mktemp("airflow-preset") / "repo", kind="orchestrator", preset="airflow")
    assert (repo / "metaflow_extensions" / MODULE_NAME).is_dir(), "the devstack's settings would not match the module"
    bin_dir = make_venv(repo)
    report_dir = tmp_path_factory.mktemp("airflow-report")
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent),
           "MFX_DEVSTACK_ENV": str(airflow_devstack.state / "env.json")}
    started = time.monotonic()
    proc = run([str(bin_dir / "mfx"), "compliance", "--project", str(repo), "--report-dir", str(report_dir)],
               cwd=repo, env=env, timeout=SUITE_TIMEOUT)
    wall = time.monotonic() - started
    md = report_dir / "compliance.md"
    report = md.read_text() if md.exists() else "(no report written)"
    context = (f"\n--- compliance.md ---\n{report}\n--- output (tail) ---\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
               f"\n--- airflow.log ---\n{airflow_devstack.log_tail()}")
    assert md.exists(), context
    data = json.loads(md.with_suffix(".json").read_text())
    record("airflow", md.with_suffix(".json"))  # a later mutation check's baseline
    rows = {row["capability"]: row for row in data["capabilities"]}
    required = [c for c, row in rows.items() if row["level"] == "required"]
    not_passed = {c: rows[c]["result"] for c in required if rows[c]["result"] != "passed"}
    assert not not_passed, f"required capabilities not passed: {not_passed}{context}"
    declared = {"switch", "schedule", "delete", "list-deployments"}
    assert {c: rows[c]["result"] for c in declared} == {c: "passed" for c in declared}, context
    assert proc.returncode == 0, f"mfx compliance exited {proc.returncode}{context}"
    print(f"\nAirflow compliance suite wall time: {wall:.0f} s; {len(required)} required capabilities passed")
