"""The bench compares recorded orchestrated run times with a real local Runner run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def test_bench_runs_flow_locally_and_writes_ratio(tmp_path: Path) -> None:
    report = tmp_path / "compliance.json"
    timings = [
        {"flow": "single_step_flow", "key": "single_step", "status": "SUCCEEDED", "run_seconds": 4.0},
        {"flow": "fail_flow", "key": "fail", "status": "FAILED", "run_seconds": 3.0},  # failed runs are not compared
    ]
    report.write_text(json.dumps({"wall_seconds": 12.0, "timings": timings}))
    proc = subprocess.run(
        [sys.executable, "-m", "mfx.compliance.bench", "--report", str(report)], capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False
    )
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "bench.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| single_step_flow |")]
    assert len(rows) == 1 and "fail_flow" not in text
    orchestrated, local, ratio = (cell.strip() for cell in rows[0].strip("|").split("|")[1:])
    assert orchestrated == "4.0" and float(local) > 0
    assert float(ratio) == pytest.approx(4.0 / float(local), rel=0.05)  # local is rounded to 0.01 s


def test_bench_reports_unreadable_report(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mfx.compliance.bench", "--report", str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2 and "cannot read run times" in proc.stderr and "Traceback" not in proc.stderr
