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
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from compliance.baselines import record
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
    record("slurm", md.with_suffix(".json"))  # the backend mutation check's baseline, later in this session
    backend = [row for row in data["capabilities"] if row.get("kind", "backend") == "backend"]
    required = [row for row in backend if row["level"] == "required"]
    assert required, f"the report lists no required backend capability{context}"
    not_passed = {row["capability"]: row["result"] for row in required if row["result"] != "passed"}
    assert not not_passed, f"required capabilities not passed: {not_passed}{context}"
    # optional, but declared by the preset: @card in the engine's tasks (O32 / B28)
    cards = [row["result"] for row in data["capabilities"] if row["capability"] == "cards" and row["declared"]]
    assert cards == ["passed"], f"the declared capability `cards`: {cards}{context}"
    assert proc.returncode == 0, f"mfx compliance exited {proc.returncode}{context}"
    # not a terminal: the live progress writes a line per run state change (from the real BackendRuns)
    progress = [line for line in proc.stdout.splitlines() if line.startswith("mfx progress ")]
    for shared in ("contract_flow", "retry_flow", "catch_timeout_flow"):
        assert any(re.search(rf": {shared} (queued|running)\b", line) for line in progress), f"no progress line shows {shared} in progress{context}"
        assert any(re.search(rf": {shared} (finished|failed) \(", line) for line in progress), f"no progress line shows {shared} ended{context}"
    assert any(" waits for " in line for line in progress), f"no progress line names the waiting test{context}"
    print(f"\nslurm compliance suite wall time: {wall:.0f} s; {len(required)} required capabilities passed")
    print(report)


@pytest.fixture(scope="module")
def slurm_stack(slurm_repo: tuple, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The generated repo's own devstack (Slurm + moto S3), up for this module's direct runs."""
    repo, bin_dir = slurm_repo
    state = tmp_path_factory.mktemp("slurm-stack")
    python = str(bin_dir / "python")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
    env = {k: v for k, v in env.items() if not k.startswith("METAFLOW_")}
    env["METAFLOW_USER"] = "mfx-test"
    up = subprocess.run([python, "devstack/run.py", "up", "--state-dir", str(state)], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stderr[-3000:]
    env.update(json.loads((state / "env.json").read_text()))
    workdir = state / "runs"
    workdir.mkdir()
    try:
        yield {"env": env, "repo": repo, "python": python, "cwd": workdir}
    finally:
        subprocess.run([python, "devstack/run.py", "down", "--state-dir", str(state)], cwd=repo, env=env, capture_output=True, timeout=120)


def _slurm_job_ids(env: dict) -> set:
    out = subprocess.run(["scontrol", "show", "job", "-o"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return set(re.findall(r"JobId=(\d+)", out.stdout))


@pytest.mark.slow
def test_slurm_task_lines_reach_the_launcher_while_the_job_runs(slurm_stack: dict) -> None:
    """A Slurm job prints line 1, then waits for our acknowledgement that line 1 is in the launcher's
    output, then prints line 2: line 1 must arrive while the job runs, each line once, in order (B17)."""
    env, python = slurm_stack["env"], slurm_stack["python"]
    key = "acks/%s" % uuid.uuid4().hex
    flow = str(slurm_stack["repo"] / "tests" / "backend_flows" / "stream_flow.py")
    proc = subprocess.Popen(
        [python, flow, "--no-pylint", "run", "--with", "slurm", "--ack_url", "s3://mfx-devstack/%s" % key],
        env=env, cwd=slurm_stack["cwd"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    seen: list = []
    acked = threading.Event()
    put_ack = "import boto3, sys; boto3.client('s3').put_object(Bucket='mfx-devstack', Key=sys.argv[1], Body=b'seen')"

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            seen.append((time.monotonic(), line))
            if "stream-line-1" in line and not acked.is_set():
                subprocess.run([python, "-c", put_ack, key], env=env, check=True, timeout=60)
                acked.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=600)
    finally:
        proc.kill()
    reader.join(timeout=30)
    output = "".join(line for _, line in seen)
    assert proc.returncode == 0, output[-4000:]
    assert acked.is_set(), "line 1 never reached the launcher while the Slurm job ran:\n" + output[-4000:]
    burst = [line for _, line in seen if "stream-line-0 burst" in line]
    assert [int(line.rsplit(" ", 1)[-1]) for line in burst] == list(range(20)), output[-4000:]
    lines = [line for _, line in seen if "stream-line-1" in line or "stream-line-2 after-ack" in line or "stream-line-2 no-ack" in line]
    assert [("stream-line-1" in line, "stream-line-2 after-ack" in line) for line in lines] == [(True, False), (False, True)], output[-4000:]
    shown = [line for _, line in seen]
    on_stderr = [line for line in shown if "stream-line-2 on stderr" in line]
    assert len(on_stderr) == 1 and shown.index(lines[0]) < shown.index(on_stderr[0]) < shown.index(lines[1]), output[-4000:]
    finished = next(i for i, (_, line) in enumerate(seen) if "/start/" in line and "Task finished" in line)
    assert [line for _, line in seen].index(lines[1]) < finished, output[-4000:]
    first_at = next(t for t, line in seen if "stream-line-1" in line)
    second_at = next(t for t, line in seen if "stream-line-2" in line)
    print("\nline 1 shown %.1f s before line 2 (the job waited for the acknowledgement)" % (second_at - first_at))


@pytest.mark.slow
def test_slurm_dead_datastore_fails_fast_without_submitting(slurm_stack: dict) -> None:
    """S3 endpoint at a closed port: one clear error within 60 s, no traceback, no Slurm job."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = "http://127.0.0.1:%d" % port
    env = {**slurm_stack["env"], "METAFLOW_S3_ENDPOINT_URL": dead, "AWS_ENDPOINT_URL_S3": dead}
    before = _slurm_job_ids(env)
    flow = str(slurm_stack["repo"] / "tests" / "backend_flows" / "stream_flow.py")
    started = time.monotonic()
    proc = subprocess.run([slurm_stack["python"], flow, "--no-pylint", "run", "--with", "slurm"],
                          env=env, cwd=slurm_stack["cwd"], capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert elapsed < 60, "took %.0f s:\n%s" % (elapsed, output[-3000:])
    assert "Traceback" not in output, output[-3000:]
    error = [line for line in output.splitlines() if "unreachable" in line]
    assert len(error) == 1 and dead in error[0] and "No job was submitted" in error[0], output[-3000:]
    assert "Task is starting" not in output, output[-3000:]
    assert _slurm_job_ids(env) <= before, "a Slurm job was submitted although the datastore is down"
    print("\ndead datastore reported in %.1f s: %s" % (elapsed, error[0].strip()))


@pytest.mark.slow
def test_slurm_one_job_at_a_time_leaves_orphan_cleanup_not_exercised(slurm_stack: dict, tmp_path: Path) -> None:
    """Adversarial: each job asks for every CPU of the node, so Slurm runs orphan_flow's two foreach
    jobs one at a time; no sibling is running when the run fails, and the orphan-cleanup check must
    say "not exercised" (the precondition it reads is the one the flow itself recorded)."""
    env, python = slurm_stack["env"], slurm_stack["python"]
    node = subprocess.run(["scontrol", "show", "node", "-o"], env=env, capture_output=True, text=True, timeout=60)
    cpus = int(re.search(r"CPUTot=(\d+)", node.stdout).group(1))
    flow = subprocess.run([python, "-c", "from mfx.compliance.tests.backend.runs import FLOWS; print(FLOWS / 'orphan_flow.py')"],
                          env=env, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    run_id_file = tmp_path / "run-id"
    started = time.monotonic()
    proc = subprocess.run(
        [python, flow, "--no-pylint", "run", "--with", "slurm:cpu=%d" % cpus, "--beat_for", "30", "--wait_for", "15", "--run-id-file", str(run_id_file)],
        env=env, cwd=slurm_stack["cwd"], capture_output=True, text=True, timeout=400,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and run_id_file.exists(), output[-4000:]
    read = (
        "import sys; from metaflow import Run, S3, namespace; namespace(None)\n"
        "with S3(run=Run('BackendOrphanFlow/' + sys.argv[1], _namespace_check=False)) as s3:\n"
        "    obj = s3.get('witness', return_missing=True); print(obj.text if obj.exists else '')\n"
    )
    witness = subprocess.run([python, "-c", read, run_id_file.read_text().strip()], env=env, cwd=slurm_stack["cwd"],
                             capture_output=True, text=True, timeout=120)
    assert witness.returncode == 0, witness.stderr[-3000:]
    from mfx.compliance.tests.backend.runs import orphan_precondition

    problem = orphan_precondition(witness.stdout.strip())
    assert problem is not None and "one at a time" in problem, (witness.stdout, output[-3000:])
    print("\none job at a time (%d CPUs each, %.0f s): %s" % (cpus, time.monotonic() - started, problem))
