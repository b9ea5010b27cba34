# USER-OWNED: tests of engine.py (the Slurm calls). `copier update` never overwrites this file.
"""engine.py against a real private Slurm cluster started from devstack/slurm_stack.py.

Skipped when the Slurm daemons are not installed (apt-get install slurmctld slurmd slurm-client munge).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from metaflow_extensions.slurm.plugins.slurm.backend import engine_api
from metaflow_extensions.slurm.plugins.slurm.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel")


def _have(binary: str) -> bool:
    return bool(shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin"))


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    missing = [b for b in NEEDED if not _have(b)]
    if missing:
        pytest.skip("needs Slurm and munge (missing: %s; Debian/Ubuntu: apt-get install slurmctld slurmd "
                    "slurm-client munge)" % ", ".join(missing))
    if os.geteuid() != 0:
        pytest.skip("needs root: the one-node Slurm cluster of devstack/slurm_stack.py runs its daemons as root")
    if not (ROOT / "devstack" / "run.py").is_file():
        pytest.skip("no devstack/ in this repository (generated with devstack=false): these tests start "
                    "Slurm from devstack/run.py; answer devstack=true with `copier update --data devstack=true`")
    state = tmp_path_factory.mktemp("slurm")
    run = [sys.executable, str(ROOT / "devstack" / "run.py")]
    up = subprocess.run([*run, "up", "--state-dir", str(state)], capture_output=True, text=True, timeout=240)
    if up.returncode != 0:
        pytest.fail("devstack did not start:\n%s" % up.stderr[-2000:])
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(state / "slurm" / "slurm.conf")
    try:
        yield state
    finally:
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
        subprocess.run([*run, "down", "--state-dir", str(state)], capture_output=True, timeout=120)


def _finish(engine: Engine, job: str, timeout: float = 90) -> engine_api.JobState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = engine.state(job)
        if engine.phase(state) in engine_api.TERMINAL_PHASES:
            return state
        time.sleep(0.5)
    raise AssertionError("job %s did not finish" % job)


@pytest.mark.parametrize(
    "body, native, phase, code",
    [
        ("echo hello $GREETING", "COMPLETED", engine_api.SUCCEEDED, 0),
        ("exit 3", "FAILED", engine_api.FAILED, 3),
        ("kill -9 $$", None, engine_api.FAILED, None),
    ],
)
def test_submit_and_state(slurm: Path, body: str, native: object, phase: str, code: object) -> None:
    engine = Engine()
    workdir = str(slurm / "jobs" / ("w-%d" % time.time_ns()))
    job = engine.submit("#!/bin/bash\n%s\n" % body, {"GREETING": "world", "PATH": os.environ["PATH"]},
                        engine_api.Resources("1", "100", "0"), 120, workdir, "mfx-test")
    state = _finish(engine, job)
    assert engine.phase(state) == phase
    if native:
        assert state.native == native
    if code is not None:
        assert state.exit_code == code
    else:  # a signal death is a failure with 128+N (B26), never success
        assert state.exit_code not in (0, None)
    if body.startswith("echo"):
        assert "hello world" in engine.logs(job)  # --export=NONE, env written into the script


def test_cancel(slurm: Path) -> None:
    engine = Engine()
    job = engine.submit("sleep 300\n", {"PATH": os.environ["PATH"]}, engine_api.Resources("1", "100", "0"), 600,
                        str(slurm / "jobs" / "cancel"), "mfx-cancel")
    engine.cancel(job)
    state = _finish(engine, job)
    assert engine.phase(state) == engine_api.KILLED and state.native == "CANCELLED"


def test_unknown_partition_is_a_launch_error(slurm: Path) -> None:
    with pytest.raises(engine_api.EngineError, match="sbatch"):
        Engine().submit("exit 0\n", {}, engine_api.Resources("1", "100", "0", "no-such-partition"), 60,
                        str(slurm / "jobs" / "bad"), "mfx-bad")
