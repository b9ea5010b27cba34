"""Stopping the Airflow devstack leaves nothing behind, even a task that is running at the time
(Airflow runs each task in its own process group, out of reach of the devstack's group), and
`status` of a stopped devstack is clear and fast. Runs last in the session: it stops the stack.
"""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import pytest
from dags import sleeping_dag
from support.airflow_devstack import MODULE_NAME, client_module, wait_gone

pytestmark = pytest.mark.slow
PREFIX = "METAFLOW_%s_" % MODULE_NAME.upper()


def processes_named(marker: str) -> list:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_down_stops_every_process_including_running_tasks(airflow_devstack):
    client_mod = client_module()
    client = airflow_devstack.client()
    suffix = uuid.uuid4().hex[:8]
    dag_id, marker = "mfx_sleeper_%s" % suffix, "mfx-sleeper-%s" % suffix
    filename = dag_id + ".py"
    written = client_mod.write_dag_file(airflow_devstack.dags_folder(), filename, sleeping_dag(dag_id, marker))
    client.wait_for_dag(dag_id, filename, since=written, timeout=180)
    client.set_paused(dag_id, False)
    client.trigger(dag_id, "airflow-%s" % suffix)
    deadline = time.monotonic() + 300
    while not processes_named(marker):
        assert time.monotonic() < deadline, "the sleeping task never started: %s" % client.task_instances(dag_id, "airflow-%s" % suffix)
        time.sleep(1)
    task_pids = processes_named(marker)
    stack_pids = airflow_devstack.processes()
    assert set(task_pids) <= set(stack_pids), "task processes are not under the supervisor (subreaper)"
    url = airflow_devstack.env()[PREFIX + "API_URL"]
    port = int(url.rsplit(":", 1)[1])

    started = time.monotonic()
    done = airflow_devstack.down()
    stop_seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert not wait_gone(stack_pids, timeout=5), "left running: %s" % wait_gone(stack_pids, 0)
    assert not processes_named(marker)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert not (airflow_devstack.state / "env.json").exists()
    assert not list(airflow_devstack.state.glob("*.ready"))

    started = time.monotonic()
    status = airflow_devstack.run("status", timeout=30)
    assert time.monotonic() - started < 10
    assert status.returncode == 1 and "devstack is down" in status.stdout, status.stdout + status.stderr

    dead = client_mod.AirflowClient(url, username="admin", password="x", timeout=5)
    started = time.monotonic()
    with pytest.raises(client_mod.AirflowUnreachable) as caught:
        dead.trigger(dag_id, "airflow-after-%s" % suffix)
    assert time.monotonic() - started < 10
    assert str(caught.value).startswith("Cannot reach Airflow at %s (connection refused)" % url)
    print("\ndown took %.1f s with a task running" % stop_seconds)
