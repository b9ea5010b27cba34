"""The Airflow preset's pieces that need no running Airflow: client errors against a closed port, a
server that is not Airflow and one that never answers; run-id and DAG-file checks; the stack
script's configuration, credentials and `health` command; `status` of a devstack that is down;
the compose fragments (validated statically); the preset files surviving a Jinja `{% include %}`.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest
import yaml
from support.airflow_devstack import (
    PRESET,
    REPO,
    Devstack,
    assemble_project,
    client_module,
    jinja_env,
    render_preset_file,
    stack_module,
)

client_mod = client_module()
stack_mod = stack_module()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def not_airflow():
    """A real HTTP server that is not Airflow: 404 with HTML for every path."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self):
            body = b"<html>nothing here</html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = _reply

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_server():
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield "http://127.0.0.1:%d" % sock.getsockname()[1]
    sock.close()


# -- the client ------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["health", "list_dags", "trigger", "get_run", "task_instances"])
def test_engine_down_is_one_clear_line_naming_the_address(call):
    url = "http://127.0.0.1:%d" % closed_port()
    client = client_mod.AirflowClient(url, username="admin", password="pw", timeout=5)
    args = {"trigger": ("dag", "airflow-1"), "get_run": ("dag", "airflow-1"), "task_instances": ("dag", "airflow-1")}
    started = time.monotonic()
    with pytest.raises(client_mod.AirflowUnreachable) as caught:
        getattr(client, call)(*args.get(call, ()))
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith("Cannot reach Airflow at %s (connection refused)" % url) and "\n" not in message


def test_a_server_that_never_answers_is_bounded(silent_server):
    client = client_mod.AirflowClient(silent_server, username="admin", password="pw", timeout=1)
    started = time.monotonic()
    with pytest.raises(client_mod.AirflowUnreachable) as caught:
        client.health()
    assert time.monotonic() - started < 5
    assert silent_server in str(caught.value)


def test_a_server_that_is_not_airflow_says_so(not_airflow):
    client = client_mod.AirflowClient(not_airflow, username="admin", password="pw", timeout=5)
    with pytest.raises(client_mod.AirflowError, match="is this an Airflow 3 API server"):
        client.health()
    with pytest.raises(client_mod.AirflowError, match="no token endpoint"):
        client.list_dags()


def test_missing_credentials_are_named_before_any_request(tmp_path):
    url = "http://127.0.0.1:%d" % closed_port()
    with pytest.raises(client_mod.AirflowAuthError, match="no Airflow user configured"):
        client_mod.AirflowClient(url).token()
    with pytest.raises(client_mod.AirflowAuthError, match="no password for Airflow user 'admin'"):
        client_mod.AirflowClient(url, username="admin").token()
    with pytest.raises(client_mod.AirflowAuthError, match="cannot read the Airflow password file"):
        client_mod.AirflowClient(url, username="admin", password_file=tmp_path / "nope.json").token()
    (tmp_path / "p.json").write_text('{"someone": "else"}')
    with pytest.raises(client_mod.AirflowAuthError, match="has no password for user 'admin'"):
        client_mod.AirflowClient(url, username="admin", password_file=tmp_path / "p.json").token()
    with pytest.raises(client_mod.AirflowError, match="no Airflow address configured"):
        client_mod.AirflowClient.from_settings(lambda name: None)
    with pytest.raises(ValueError, match="must look like http"):
        client_mod.AirflowClient("127.0.0.1:8080")


def test_password_file_formats(tmp_path):
    (tmp_path / "a.json").write_text('{"admin": "s3cret"}\n')
    (tmp_path / "plain").write_text("other-secret\n")
    assert client_mod.read_password_file(tmp_path / "a.json", "admin") == "s3cret"
    assert client_mod.read_password_file(tmp_path / "plain", "admin") == "other-secret"


@pytest.mark.parametrize("bad", ["manual__2026-01-01T00:00:00+00:00", "a,b", "x/y", "a:b", "!x", "12345", "",
                                 "with space", "a" * 251, "ü"])
def test_run_ids_unsafe_for_metaflow_are_refused(bad):
    with pytest.raises(ValueError, match="O19"):
        client_mod.check_run_id(bad)
    client = client_mod.AirflowClient("http://127.0.0.1:%d" % closed_port(), username="a", password="b")
    with pytest.raises(ValueError):  # refused before any request (the engine is down here)
        client.trigger("some_dag", bad)


@pytest.mark.parametrize("good", ["airflow-1a2b3c", "run_1.2", "x" * 250, "0x1"])
def test_safe_run_ids_pass(good):
    assert client_mod.check_run_id(good) == good


def test_conf_must_be_json(tmp_path):
    client = client_mod.AirflowClient("http://127.0.0.1:%d" % closed_port(), username="a", password="b")
    with pytest.raises(ValueError, match="JSON-serialisable"):
        client.trigger("dag", "airflow-1", conf={"when": object()})


def test_write_dag_file_is_atomic_and_refuses_what_airflow_would_skip(tmp_path):
    with pytest.raises(ValueError, match="dag_discovery_safe_mode"):
        client_mod.write_dag_file(tmp_path, "x.py", "print('no keywords here')\n")
    for bad in ("x.txt", "../x.py", ".hidden.py"):
        with pytest.raises(ValueError, match="plain"):
            client_mod.write_dag_file(tmp_path, bad, "from airflow.sdk import DAG\n")
    mtime = client_mod.write_dag_file(tmp_path / "dags", "ok.py", "from airflow.sdk import DAG\n")
    assert [p.name for p in (tmp_path / "dags").iterdir()] == ["ok.py"]
    assert abs(mtime - (tmp_path / "dags" / "ok.py").stat().st_mtime) < 1e-6


def test_summarize_trace_and_parse_time():
    trace = ('Traceback (most recent call last):\n  File "<frozen importlib._bootstrap>", line 241, in _call\n'
             '  File "/d/x.py", line 3, in <module>\n    import nope\nModuleNotFoundError: No module named \'nope\'\n')
    assert client_mod.summarize_trace(trace) == "ModuleNotFoundError: No module named 'nope' [File \"/d/x.py\", line 3, in <module>]"
    assert client_mod.summarize_trace("") == "(Airflow recorded no error text)"
    error = client_mod.DagImportError("x.py", trace, "x")
    assert "\n" not in str(error) and "No module named 'nope'" in str(error) and error.stack_trace == trace
    base = client_mod.parse_time("2026-12-07T02:40:09Z")
    assert client_mod.parse_time("2026-12-07T02:40:09.725362Z") == pytest.approx(base + 0.725362)
    assert client_mod.parse_time("2026-12-07T02:40:09.5+00:00") == pytest.approx(base + 0.5)
    assert client_mod.parse_time("2026-12-07T02:40:09.1234567Z") == pytest.approx(base + 0.123456)
    assert client_mod.parse_time(None) is None


# -- the stack script ------------------------------------------------------------------------------


def test_config_and_credentials(tmp_path):
    home = tmp_path / "airflow"
    first = stack_mod.write_config(home, parallelism=3)
    again = stack_mod.write_config(home, parallelism=2)
    assert first == again, "secrets must survive a restart (the database is encrypted with the Fernet key)"
    for name in ("airflow.cfg", "passwords.json", "secrets.json"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600
    assert json.loads((home / "passwords.json").read_text()) == {"admin": first["password"]}
    config = (home / "airflow.cfg").read_text()
    assert "parallelism = 2" in config and first["jwt_secret"] in config and first["password"] not in config
    import base64

    assert len(base64.urlsafe_b64decode(first["fernet_key"])) == 32
    env = stack_mod.child_env(home, tmp_path / "venv", port=41234, log_port=41235)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1" and env["AIRFLOW__API__PORT"] == "41234"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:41234/execution/"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert "8793" not in json.dumps(env) and "127.0.0.1" in env["NO_PROXY"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:///")
    assert first["password"] not in json.dumps(env) and first["jwt_secret"] not in json.dumps(env)


def test_secrets_file_that_is_corrupt_is_regenerated(tmp_path):
    home = tmp_path / "airflow"
    home.mkdir()
    (home / "secrets.json").write_text("{not json")
    assert stack_mod.write_config(home, 1)["password"]


def test_a_complete_venv_is_not_reinstalled(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / ".devstack-installed").write_text(json.dumps({"requirements": stack_mod.requirements(stack_mod.AIRFLOW_VERSION)}))
    assert stack_mod.ensure_venv(venv) == (venv, False)


def test_health_command_against_nothing_is_fast_and_clear():
    url = "http://127.0.0.1:%d" % closed_port()
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(PRESET / "devstack" / "airflow_stack.py"), "health", "--url", url],
                          capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 10
    assert done.returncode == 1 and "airflow at %s: not healthy" % url in done.stdout and "refused" in done.stdout


def test_descendants_finds_grandchildren_in_other_groups():
    child = subprocess.Popen([sys.executable, "-c",
                              "import subprocess, sys, time; subprocess.Popen(['sleep', '30'], start_new_session=True); "
                              "time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while len(stack_mod.descendants(child.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        found = stack_mod.descendants(child.pid)
        assert found, "the grandchild in its own session was not found"
    finally:
        stack_mod.signal_tree([child.pid, *stack_mod.descendants(child.pid)], 9)
        child.wait(timeout=10)


# -- the devstack's files --------------------------------------------------------------------------


def test_status_of_a_devstack_that_is_down_is_fast_and_clear(tmp_path):
    stack = Devstack(assemble_project(tmp_path / "project"))
    started = time.monotonic()
    done = stack.run("status", timeout=30)
    assert time.monotonic() - started < 10
    assert done.returncode == 1 and done.stdout.strip() == "devstack is down"
    env = stack.run("env", timeout=30)
    assert env.returncode == 1 and "run `python devstack/run.py up` first" in env.stderr


def test_services_json_starts_the_stack_script_on_a_fresh_port():
    spec = json.loads(render_preset_file("devstack/services.json.jinja", module_name="my_flow_engine"))
    assert spec["ports"] == ["airflow"]
    (service,) = spec["services"]
    assert service["command"][:3] == ["{python}", "{project}/devstack/airflow_stack.py", "serve"]
    assert "{port[airflow]}" in service["ready"]["file"]  # a ready file left by a killed run never counts
    assert service["ready"]["file"] in service["command"]
    assert set(spec["env"]) >= {"METAFLOW_MY_FLOW_ENGINE_" + k for k in ("API_URL", "DAGS_FOLDER", "USERNAME", "PASSWORD_FILE")}
    assert all("password" not in v.lower() or v.endswith("passwords.json") for v in spec["env"].values())


def _compose_checks():
    path = REPO / "tests" / "template" / "test_generated_quality.py"
    spec = importlib.util.spec_from_file_location("generated_quality_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compose_fragments_make_a_valid_compose_file_bound_to_localhost():
    host = (
        "name: mf-airflow-devstack\nservices:\n"
        "{% include 'template/presets/orchestrator-airflow/devstack/docker-compose.services.yml.jinja' %}\n"
        "volumes:\n{% include 'template/presets/orchestrator-airflow/devstack/docker-compose.volumes.yml.jinja' %}"
    )
    doc = yaml.safe_load(jinja_env().from_string(host).render(module_name="mf_airflow", plugin_name="mf-airflow"))
    checks = _compose_checks()
    assert not checks.compose_errors(doc), checks.compose_errors(doc)
    assert not checks.unbound_ports(doc)
    assert doc["services"]["airflow"]["ports"] == ["127.0.0.1:8080:8080"]
    assert "airflow-home" in doc["volumes"]
    pinned = doc["services"]["airflow"]["image"].split(":")[1]
    assert pinned == stack_mod.AIRFLOW_VERSION, "the Docker path and the no-Docker path must run the same Airflow"


def test_plain_preset_files_survive_a_jinja_include_unchanged():
    plain = [p for p in PRESET.rglob("*") if p.is_file() and p.suffix not in (".jinja", ".md") and "__pycache__" not in p.parts]
    assert len(plain) >= 2
    for path in plain:
        text = path.read_text(encoding="utf-8")
        rendered = jinja_env().get_template(path.relative_to(REPO).as_posix()).render(module_name="m", plugin_name="m")
        assert rendered == text, "%s changes when included through Jinja" % path.name


def test_restart_policy_allows_a_few_restarts_per_window():
    policy = stack_mod.RestartPolicy(limit=2, window=100.0)
    assert policy.record("dag-processor", 0.0) == (True, 1)
    assert policy.record("scheduler", 1.0) == (True, 1)  # counted per component
    assert policy.record("dag-processor", 10.0) == (True, 2)
    assert policy.record("dag-processor", 20.0) == (False, 3)
    assert policy.record("dag-processor", 115.0) == (True, 2)  # the exits at 0 and 10 s are out of the window


def test_a_component_that_keeps_dying_stops_the_stack_with_its_log(tmp_path, capsys):
    """Real processes in place of Airflow's: each exits at once with a line in its log."""

    class Crashing(stack_mod.Stack):
        def command(self, name):
            return [sys.executable, "-c", "import sys; print('boom from %s'); sys.exit(3)" % name]

    home = tmp_path / "airflow"
    (home / "logs").mkdir(parents=True)
    stack = Crashing(home, tmp_path, {"PATH": "/usr/bin:/bin"}, 0)
    stack.restarts = stack_mod.RestartPolicy(limit=2, window=600.0)
    stack.start()
    restarted = 0
    with pytest.raises(stack_mod.StackError) as caught:
        for _ in range(200):
            for proc in stack.procs.values():
                proc.wait(timeout=30)
            stack.keep_running()
            restarted += 1
    message = str(caught.value)
    assert "exited with code 3" in message and "boom from" in message and "not restarted again" in message
    assert restarted == 2, "two restarts allowed, the third exit stops the stack"
    assert "restarting it (restart 1 of at most 2" in capsys.readouterr().err
    log = (home / "logs" / "dag-processor.log").read_text()
    assert log.count("boom from dag-processor") == 3 and "restarted by the devstack after exit code 3" in log
    stack.stop()
