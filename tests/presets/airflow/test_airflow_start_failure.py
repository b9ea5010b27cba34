"""A devstack that does not become healthy in time fails with a clear error naming the log files,
within its bound, and leaves no Airflow process behind (a real Airflow, its own state directory)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.airflow_devstack import Devstack, assemble_project, wait_gone

pytestmark = pytest.mark.slow


def processes_using(path: Path) -> list:
    """Processes whose environment names ``path`` (every Airflow component has AIRFLOW_HOME in it)."""
    found = []
    needle = str(path).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_health_timeout_names_the_logs_and_cleans_up(tmp_path):
    project = assemble_project(tmp_path / "project")
    services = project / "devstack" / "services.json"
    spec = json.loads(services.read_text())
    spec["services"][0]["command"] += ["--health-timeout", "2"]
    services.write_text(json.dumps(spec))
    stack = Devstack(project)
    started = time.monotonic()
    done = stack.run("up", timeout=900)
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Airflow was not healthy after 2 s" in output, output
    assert str(stack.state / "airflow" / "logs") in output and ".log" in output, output
    assert not wait_gone(processes_using(stack.state / "airflow"), timeout=20), "Airflow processes left running"
    status = stack.run("status", timeout=30)
    assert status.returncode == 1 and "devstack is down" in status.stdout
    print("\nfailed start reported after %.0f s (migration included)" % elapsed)
