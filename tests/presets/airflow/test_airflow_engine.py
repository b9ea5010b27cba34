"""The Airflow 3 preset's devstack and REST client against a real Airflow (started once per session).

A hand-written DAG with BashOperator tasks, a dynamically mapped task (`.expand`, width from the
run's conf), a branch and a task that passes on its retry: parsed, unpaused, triggered with a
Metaflow-safe run id, run to success; its task instances carry map indexes and try numbers.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from dags import broken_dag, mapped_branching_dag
from support.airflow_devstack import MODULE_NAME, client_module

pytestmark = pytest.mark.slow
PREFIX = "METAFLOW_%s_" % MODULE_NAME.upper()
PARSE_TIMEOUT = 180  # a loaded 2-core machine; a DAG is usually parsed within a few seconds


def listening_addresses(pids) -> set:
    """(ip, port) of every TCP socket in LISTEN state owned by one of ``pids`` (from /proc)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            hex_ip, hex_port = local.split(":")
            if width == 8:
                ip = ".".join(str(int(hex_ip[i:i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                ip = "v6:" + hex_ip
            found.add((ip, int(hex_port, 16)))
    return found


def test_env_prints_the_addresses_chosen_at_start(airflow_devstack):
    env = airflow_devstack.env()
    url = env[PREFIX + "API_URL"]
    assert url.startswith("http://127.0.0.1:")
    exported = airflow_devstack.run("env")
    assert exported.returncode == 0, exported.stderr
    assert "export %sAPI_URL='%s'" % (PREFIX, url) in exported.stdout
    assert "export %sDAGS_FOLDER=" % PREFIX in exported.stdout
    status = airflow_devstack.run("status")
    assert status.returncode == 0 and "airflow: running" in status.stdout, status.stdout + status.stderr
    health = airflow_devstack.client().health()
    assert health["scheduler"]["status"] == "healthy" and health["dag_processor"]["status"] == "healthy", health
    print("\nstart to healthy: %.0f s; RSS of the stack: %.0f MiB" % (airflow_devstack.start_seconds, airflow_devstack.rss_mib()))


def test_every_listening_socket_is_on_loopback(airflow_devstack):
    port = int(airflow_devstack.env()[PREFIX + "API_URL"].rsplit(":", 1)[1])
    listening = listening_addresses(airflow_devstack.processes())
    assert ("127.0.0.1", port) in listening, listening
    assert {ip for ip, _ in listening} == {"127.0.0.1"}, listening


def test_credentials_are_generated_private_and_checked(airflow_devstack):
    home = airflow_devstack.state / "airflow"
    for name in ("passwords.json", "secrets.json", "airflow.cfg"):
        mode = stat.S_IMODE((home / name).stat().st_mode)
        assert mode == 0o600, "%s has mode %o" % (name, mode)
    password = json.loads((home / "passwords.json").read_text())["admin"]
    assert len(password) >= 16 and airflow_devstack.client().token()
    for public in (airflow_devstack.state / "env.json", airflow_devstack.project / "devstack" / "services.json"):
        assert password not in public.read_text()
    client = client_module()
    wrong = client.AirflowClient(airflow_devstack.env()[PREFIX + "API_URL"], username="admin", password="not-the-password")
    with pytest.raises(client.AirflowAuthError) as caught:
        wrong.list_dags()
    message = str(caught.value)
    assert wrong.url in message and "rejected the credentials" in message and "\n" not in message


def test_mapped_branching_dag_runs_to_success(airflow_devstack, tmp_path):
    client_mod = client_module()
    client = airflow_devstack.client()
    suffix = uuid.uuid4().hex[:8]
    dag_id, tag = "mfx_probe_%s" % suffix, "mfx-probe-%s" % suffix
    filename = dag_id + ".py"
    source = mapped_branching_dag(dag_id, tag, str(tmp_path / "flaky.marker"))
    written = client_mod.write_dag_file(airflow_devstack.dags_folder(), filename, source)
    assert not [p for p in airflow_devstack.dags_folder().iterdir() if p.name.endswith(".tmp")]
    started = time.monotonic()
    dag = client.wait_for_dag(dag_id, filename, since=written, timeout=PARSE_TIMEOUT)
    parse_wait = time.monotonic() - started
    assert dag.is_paused and tag in dag.tags and dag.relative_fileloc == filename

    with pytest.raises(client_mod.AirflowNotFound):
        client.trigger("mfx_no_such_dag_%s" % suffix, "airflow-%s" % suffix)
    assert client.set_paused(dag_id, False).is_paused is False
    run_id = "airflow-%s" % uuid.uuid4().hex[:16]
    queued = client.trigger(dag_id, run_id, conf={"n": 3, "side": "right", "note": "a b,c:d"})
    assert queued.run_id == run_id and queued.state in ("queued", "running")
    with pytest.raises(client_mod.AirflowConflict) as duplicate:
        client.trigger(dag_id, run_id)
    assert run_id in str(duplicate.value)

    started = time.monotonic()
    run = client.wait_for_run(dag_id, run_id, timeout=600, poll=1.0)
    run_seconds = time.monotonic() - started
    tis = client.task_instances(dag_id, run_id)
    assert run.state == "success", [(t.task_id, t.map_index, t.state) for t in tis]
    assert run.conf == {"n": 3, "side": "right", "note": "a b,c:d"}
    by_task = {}
    for ti in tis:
        by_task.setdefault(ti.task_id, []).append(ti)
    assert [ti.map_index for ti in by_task["square"]] == [0, 1, 2]
    assert all(ti.state == "success" and ti.try_number == 1 for ti in by_task["square"])
    assert [(ti.map_index, ti.state) for ti in by_task["right"]] == [(-1, "success")]
    assert [ti.state for ti in by_task["left"]] == ["skipped"]
    flaky = by_task["flaky"]
    assert [(ti.state, ti.try_number, ti.max_tries) for ti in flaky] == [("success", 2, 1)], flaky
    assert by_task["end"][0].state == "success"

    assert dag_id in {d.dag_id for d in client.list_dags(tags=[tag])}
    assert dag_id not in {d.dag_id for d in client.list_dags(tags=["mfx-no-such-tag-%s" % suffix])}
    assert client.set_paused(dag_id, True).is_paused is True
    assert client.get_run(dag_id, "airflow-never-%s" % suffix) is None

    assert client.delete_dag(dag_id, airflow_devstack.dags_folder() / filename) is True
    assert client.get_dag(dag_id) is None
    assert client.delete_dag(dag_id) is False
    time.sleep(6)  # three dag-processor refresh intervals: a deleted file must not bring the DAG back
    assert client.get_dag(dag_id) is None
    print("\nparse wait %.1f s; trigger to success %.1f s" % (parse_wait, run_seconds))


def test_dag_import_error_is_a_clear_message(airflow_devstack):
    client_mod = client_module()
    client = airflow_devstack.client()
    suffix = uuid.uuid4().hex[:8]
    dag_id = "mfx_broken_%s" % suffix
    filename = dag_id + ".py"
    missing = "mfx_missing_module_%s" % suffix
    written = client_mod.write_dag_file(airflow_devstack.dags_folder(), filename, broken_dag(dag_id, missing))
    with pytest.raises(client_mod.DagImportError) as caught:
        client.wait_for_dag(dag_id, filename, since=written, timeout=PARSE_TIMEOUT)
    message = str(caught.value)
    assert filename in message and "No module named '%s'" % missing in message, message
    assert "\n" not in message and caught.value.stack_trace.startswith("Traceback")

    # The user fixes the file: the same wait now succeeds (the old error is not reported again).
    fixed = broken_dag(dag_id, "json")
    written = client_mod.write_dag_file(airflow_devstack.dags_folder(), filename, fixed)
    assert client.wait_for_dag(dag_id, filename, since=written, timeout=PARSE_TIMEOUT).dag_id == dag_id
    assert not client.import_errors(filename)
    client.delete_dag(dag_id, airflow_devstack.dags_folder() / filename)


def test_a_file_defining_another_dag_times_out_with_the_reason(airflow_devstack):
    client_mod = client_module()
    client = airflow_devstack.client()
    suffix = uuid.uuid4().hex[:8]
    filename = "mfx_other_%s.py" % suffix
    written = client_mod.write_dag_file(airflow_devstack.dags_folder(), filename, broken_dag("mfx_actual_%s" % suffix, "json"))
    client.wait_for_dag("mfx_actual_%s" % suffix, filename, since=written, timeout=PARSE_TIMEOUT)
    started = time.monotonic()
    with pytest.raises(client_mod.DagParseTimeout) as caught:
        client.wait_for_dag("mfx_expected_%s" % suffix, filename, since=written, timeout=3)
    assert time.monotonic() - started < 30
    assert "defines 'mfx_actual_%s'" % suffix in str(caught.value)
    client.delete_dag("mfx_actual_%s" % suffix, airflow_devstack.dags_folder() / filename)


def test_health_command_of_the_stack_script(airflow_devstack):
    url = airflow_devstack.env()[PREFIX + "API_URL"]
    done = subprocess.run([sys.executable, str(airflow_devstack.project / "devstack" / "airflow_stack.py"), "health",
                           "--url", url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "healthy" in done.stdout, done.stdout + done.stderr


def test_database_uses_write_ahead_logging(airflow_devstack):
    import contextlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(str(airflow_devstack.state / "airflow" / "airflow.db"), timeout=30)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_component_that_dies_is_restarted_and_the_stack_keeps_working(airflow_devstack):
    """Airflow 3.3's dag-processor can crash on its own race (a DAG deleted while its file is being
    processed); the devstack must start it again instead of leaving every later run stranded."""
    import signal

    def dag_processors() -> list:
        """The supervisor's dag-processor children (not the processes they fork to parse files)."""
        from support.airflow_devstack import stack_module

        parents = stack_module().process_table()
        leader = airflow_devstack.leader()
        found = []
        for pid in airflow_devstack.processes():
            if parents.get(pid) != leader:
                continue
            try:
                cmd = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
            except OSError:
                continue
            if b"dag-processor" in cmd and any(part.endswith(b"airflow") for part in cmd[:2]):
                found.append(pid)
        return found

    before = dag_processors()
    assert before, "no dag-processor under the devstack's supervisor: %s" % airflow_devstack.processes()
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (set(dag_processors()) - set(before)):
        time.sleep(0.5)
    again = set(dag_processors()) - set(before)
    assert again, "the dag-processor was not started again:\n" + airflow_devstack.log_tail()
    assert "restarting it (restart 1 of at most" in airflow_devstack.log_tail(), airflow_devstack.log_tail()
    # and it does its job: DAGs written now are parsed; deleting them (file, then metadata once the
    # dag-processor has marked them stale) does not crash it again
    client = airflow_devstack.client()
    suffix = uuid.uuid4().hex[:8]
    names = ["mfx_restart_%s_%d" % (suffix, i) for i in range(3)]
    written = {n: client_module().write_dag_file(airflow_devstack.dags_folder(), n + ".py", broken_dag(n, "json")) for n in names}
    try:
        for name in names:
            client.wait_for_dag(name, name + ".py", since=written[name], timeout=PARSE_TIMEOUT)
    finally:
        for name in names:
            client.delete_dag(name, airflow_devstack.dags_folder() / (name + ".py"))
    time.sleep(3)  # a refresh interval and more: the processor would have tripped on a deleted row by now
    assert set(dag_processors()) == again, "the dag-processor died again after the deletes:\n" + airflow_devstack.log_tail()
    assert all(client.get_dag(name) is None for name in names)
