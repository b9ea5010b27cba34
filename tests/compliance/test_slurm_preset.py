"""End-to-end proof: the generated Slurm preset passes the backend compliance suite.

Renders the template (working tree included) with ``kind=backend preset=slurm``, builds the repo's
venv (uv, shared cache), then runs ``<venv>/bin/mfx compliance`` exactly as ``nox -s compliance``
does: the suite starts the devstack once (munge + slurmctld + slurmd with a private socket and
ports, moto's S3 server), runs every backend test with ``Runner(flow, decospecs=["slurm"])``,
and stops the devstack. Every REQUIRED capability must pass; the report is attached on failure.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from compliance.slurm_baseline import record
from support.generate import make_venv, render, run

pytestmark = pytest.mark.slow  # starts real engines / runs generated repos

SUITE_TIMEOUT = 1200  # CI budget for the suite is 15 minutes; the margin covers a slow machine
SLURM_BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel", "sinfo")


def _missing_slurm() -> list:
    return [b for b in SLURM_BINARIES if not (shutil.which(b) or shutil.which(b, path="/usr/sbin:/usr/bin"))]


@pytest.fixture(scope="module")
def slurm_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    missing = _missing_slurm()
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and Slurm + munge (apt-get install slurmctld slurmd slurm-client munge); missing: {missing}")
    repo = render(tmp_path_factory.mktemp("slurm") / "repo", kind="backend", preset="slurm")
    bin_dir = make_venv(repo, extras=["moto[server]", "boto3"])
    return repo, bin_dir


def test_slurm_preset_passes_every_required_capability(slurm_repo: tuple, tmp_path: Path) -> None:
    repo, bin_dir = slurm_repo
    report_dir = tmp_path / "report"
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
    started = time.monotonic()
    # a private pytest basetemp: the devstack's state (Slurm spool, munge socket, job dirs) lives there
    # and must not be rotated away by another pytest session on the same machine
    cmd = [str(bin_dir / "mfx"), "compliance", "--project", str(repo), "--report-dir", str(report_dir), f"--basetemp={tmp_path / 'suite'}", "--mfx-run-timeout", "600"]
    proc = run(cmd, cwd=repo, env=env, timeout=SUITE_TIMEOUT)
    wall = time.monotonic() - started
    md = report_dir / "compliance.md"
    report = md.read_text() if md.exists() else "(no report written)"
    context = f"\n--- compliance.md ---\n{report}\n--- output (tail) ---\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    assert md.exists() and (report_dir / "compliance.xml").exists(), context
    data = json.loads(md.with_suffix(".json").read_text())
    record(md.with_suffix(".json"))  # the backend mutation check's baseline, later in this session
    backend = [row for row in data["capabilities"] if row.get("kind", "backend") == "backend"]
    required = [row for row in backend if row["level"] == "required"]
    assert required, f"the report lists no required backend capability{context}"
    not_passed = {row["capability"]: row["result"] for row in required if row["result"] != "passed"}
    assert not not_passed, f"required capabilities not passed: {not_passed}{context}"
    assert proc.returncode == 0, f"mfx compliance exited {proc.returncode}{context}"
    print(f"\nslurm compliance suite wall time: {wall:.0f} s; {len(required)} required capabilities passed")
    print(report)
