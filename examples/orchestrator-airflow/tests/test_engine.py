"""USER-OWNED: engine.py against a real Airflow 3 (api-server, scheduler, dag-processor).

The devstack (`devstack/run.py up`) is started once for this module in a temporary state dir;
runs use the local datastore under it. The first start installs Airflow into a cached venv with
uv (minutes, once per machine); later starts take about a minute. With `MFX_DEVSTACK_ENV` naming
the env.json of a devstack you started yourself (`nox -s devstack -- up`), the tests use it and
start nothing, as `mfx compliance` does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
HELLO = REPO / "flows" / "hello_flow.py"
FAILING = Path(__file__).resolve().parent / "deployer_flows" / "failing_flow.py"
SCHEDULED = Path(__file__).resolve().parent / "deployer_flows" / "scheduled_flow.py"
PLUMBING_FLOWS = Path(__file__).resolve().parent / "plumbing_flows"
PREFIX = "METAFLOW_MF_AIRFLOW_"
RUN_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """A running Airflow; yields the env.json environment."""
    reuse = os.environ.get("MFX_DEVSTACK_ENV")
    if reuse and not Path(reuse).is_file():
        pytest.fail(f"MFX_DEVSTACK_ENV={reuse} does not exist: start the devstack (`nox -s devstack -- up`) or unset it")
    if not reuse and not (REPO / "devstack" / "run.py").is_file():
        pytest.skip("no devstack/ in this repository (generated with devstack=false): these tests start "
                    "Airflow from devstack/run.py; answer devstack=true with `copier update --data devstack=true`")
    state = Path(reuse).parent if reuse else tmp_path_factory.mktemp("devstack")
    devstack = [sys.executable, str(REPO / "devstack" / "run.py")]
    started = None if reuse else subprocess.run([*devstack, "up", "--state-dir", str(state)], capture_output=True, text=True, timeout=1800)
    saved = dict(os.environ)
    try:
        assert started is None or started.returncode == 0, started.stderr[-3000:]
        env = json.loads((state / "env.json").read_text())
        env.setdefault("USERNAME", os.environ.get("USERNAME") or "tester")
        os.environ.update(env)  # from_deployment / list_deployed_flows read the settings here
        from metaflow import metadata, namespace

        metadata("local@%s" % env["METAFLOW_DATASTORE_SYSROOT_LOCAL"])
        namespace(None)
        yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if not reuse:  # a devstack someone else started is theirs to stop
            subprocess.run([*devstack, "down", "--state-dir", str(state)], capture_output=True, timeout=120)


def deployer(flow: Path, env: Dict[str, str], tmp_path: Path, **group_options: str):
    from metaflow import Deployer

    return Deployer(str(flow), env=env, cwd=str(tmp_path)).mf_airflow(**group_options)


def client(env: Dict[str, str]):
    from metaflow_extensions.mf_airflow.plugins.mf_airflow.airflow_client import AirflowClient

    return AirflowClient(env[PREFIX + "API_URL"], username=env[PREFIX + "USERNAME"], password_file=env[PREFIX + "PASSWORD_FILE"])


def test_foreach_flow_runs_as_mapped_airflow_tasks(stack: Dict[str, str], tmp_path: Path) -> None:
    deployed = deployer(HELLO, stack, tmp_path).create(tags=["engine-test"])
    dag_file = Path(stack[PREFIX + "DAGS_FOLDER"]) / "metaflow_HelloFlow.py"
    source = dag_file.read_text()
    assert "step_1.expand(index_path=t['start'])" in source  # greet: one mapped task per foreach item
    started = time.time()
    triggered = deployed.trigger(greeting="hey")
    assert time.time() - started < 60  # trigger returns once Airflow accepted the run (O24)
    assert triggered.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "SUCCEEDED"
    run = triggered.run
    assert run.successful and run.data.messages == ["hey ada", "hey grace", "hey linus"]
    assert "engine-test" in run.tags
    instances = client(stack).task_instances("HelloFlow", run.id)  # the DAG run id is the Metaflow run id
    assert [(ti.task_id, ti.map_index, ti.state) for ti in instances] == [
        ("end", -1, "success"), ("greet", 0, "success"), ("greet", 1, "success"), ("greet", 2, "success"),
        ("join", -1, "success"), ("start", -1, "success")]


def test_failing_flow_reports_failed_and_skips_the_rest(stack: Dict[str, str], tmp_path: Path) -> None:
    triggered = deployer(FAILING, stack, tmp_path, name="failing-engine").create().trigger()
    assert triggered.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "FAILED"
    assert triggered.run is not None and not triggered.run.successful
    states = {ti.task_id: ti.state for ti in client(stack).task_instances("failing-engine", triggered.run.id)}
    assert states["start"] == "success" and "failed" in states.values()
    assert states["end"] == "upstream_failed"


def test_from_deployment_list_and_delete(stack: Dict[str, str], tmp_path: Path) -> None:
    from metaflow.runner.deployer import DeployedFlow

    deployed = deployer(FAILING, stack, tmp_path, name="failing-rebuilt").create()
    rebuilt = DeployedFlow.from_deployment("failing-rebuilt", impl="mf_airflow")
    assert (rebuilt.name, rebuilt.flow_name) == ("failing-rebuilt", "FailingFlow")
    triggered = rebuilt.trigger(succeed=True)  # a bool Parameter through the rebuilt deployment
    assert triggered.wait_for_completion(check_interval=3, timeout=RUN_TIMEOUT_S) == "SUCCEEDED"
    again = DeployedFlow.get_triggered_run("failing-rebuilt", triggered.run.id, impl="mf_airflow")
    assert again.status == "SUCCEEDED" and again.run.data.succeed is True
    names = [d.name for d in DeployedFlow.list_deployed_flows(flow_name="FailingFlow", impl="mf_airflow")]
    assert "failing-rebuilt" in names
    assert deployed.delete()
    assert client(stack).get_dag("failing-rebuilt") is None
    assert not (Path(stack[PREFIX + "DAGS_FOLDER"]) / "metaflow_failing-rebuilt.py").exists()
    with pytest.raises(Exception, match="No deployment named"):
        DeployedFlow.from_deployment("failing-rebuilt", impl="mf_airflow")


def test_schedule_becomes_the_dag_schedule(stack: Dict[str, str], tmp_path: Path) -> None:
    deployer(SCHEDULED, stack, tmp_path).create()
    info = client(stack).get_dag("ScheduledFlow")
    assert info is not None and not info.is_paused
    assert "0 3 * * *" in str(info.timetable_summary)  # @schedule(cron="0 3 * * ? *")


@pytest.mark.parametrize("flow,shape", [("nested_foreach.py", "nested-foreach"),
                                        ("switch_in_foreach.py", "a split-switch inside a foreach")])
def test_shapes_airflow_cannot_map_are_refused_at_create(stack: Dict[str, str], tmp_path: Path, flow: str, shape: str) -> None:
    with pytest.raises(RuntimeError) as failure:
        deployer(PLUMBING_FLOWS / flow, stack, tmp_path).create()
    text = str(failure.value)
    assert "not supported" in text and shape in text, text  # O26
    written = sorted(p.name for p in Path(stack[PREFIX + "DAGS_FOLDER"]).glob("metaflow_Plumbing*"))
    assert written == [], "a refused flow left files in the DAGs folder: %s" % written


def _closed_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_engine_down_fails_fast_and_clearly(stack: Dict[str, str], tmp_path: Path) -> None:
    port = _closed_port()
    env = {**os.environ, **stack, PREFIX + "API_URL": "http://127.0.0.1:%d" % port}
    started = time.time()
    create = subprocess.run([sys.executable, str(HELLO), "--quiet", "mf-airflow", "create"],
                            env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    assert time.time() - started < 60
    assert create.returncode == 1
    assert "Cannot reach mf-airflow at http://127.0.0.1:%d (from %sAPI_URL): connection refused" % (port, PREFIX) in create.stderr
    assert "Traceback" not in create.stderr
