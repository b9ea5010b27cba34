"""The wiring of `nox -s ux` (python -m mfx.compliance.ux), fast: no engine, no network.

Runs against the stand-in for Metaflow's test/ux in tests/template/ux_standin (labelled as such;
our machines cannot reach the Metaflow repository), a real local git repository for the sparse
clone, and real closed / silent sockets for "GitHub unreachable". The run on a real engine is the
slow test in test_temporal_preset.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from mfx.compliance import ux

STANDIN = Path(__file__).resolve().parents[1] / "template" / "ux_standin"
VERSION = ux.metaflow_version()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _project(root: Path, devstack: str = "[]", deploy_args: str = '{ queue = "q-1", priority = 3 }') -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "fake"\nversion = "0"\n\n[tool.mfx.compliance]\nkind = "orchestrator"\n'
        f'plugin = "fake-sched"\ncapabilities = "fake.caps:CAPABILITIES"\ndevstack = {devstack}\n'
        f"deploy_args = {deploy_args}\n"
    )
    return root


def _run(args: list, env: dict, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mfx.compliance.ux", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **env})


def _junit(path: Path) -> dict:
    return {case.get("name"): ("failed" if case.find("failure") is not None or case.find("error") is not None
                               else "skipped" if case.find("skipped") is not None else "passed")
            for case in ET.parse(path).getroot().iter("testcase")}


# -- the session against the stand-in -----------------------------------------------------------


STACK = """import json, sys
from pathlib import Path
action, state = sys.argv[1], Path(sys.argv[3])
state.mkdir(parents=True, exist_ok=True)
(state / ("was-" + action)).write_text("1")
if action == "up":
    (state / "env.json").write_text(json.dumps({"METAFLOW_DATASTORE_SYSROOT_LOCAL": str(state / "ds"),
                                                "FAKE_ENGINE_ADDRESS": "127.0.0.1:1"}))
"""


def test_session_writes_config_sets_environment_and_deselects_conda(tmp_path: Path) -> None:
    project = _project(tmp_path / "ext", devstack='["python", "stack.py"]')
    (project / "stack.py").write_text(STACK)
    env = {"USER": "root", "USERNAME": "", "LOGNAME": "", "METAFLOW_USER": "", "METAFLOW_PROFILE": "nosuch",
           "METAFLOW_HOME": str(tmp_path / "nowhere"), "MFX_UX_CONDA_URL": f"http://127.0.0.1:{_closed_port()}/",
           "MFX_DEVSTACK_ENV": ""}
    before = (STANDIN / "ux_test_config.yaml").read_text()
    proc = _run(["--ux-source", str(STANDIN), "-k", "not hello"], env, project)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert "Traceback" not in out
    results = _junit(project / "reports" / "ux.xml")
    assert results == {"test_config_names_one_backend_with_a_scheduler": "passed",
                       "test_environment_has_home_profile_and_a_user": "passed"}, out[-4000:]
    assert "conda tests deselected" in out and "-m not conda" in out, out[-3000:]
    md = (project / "reports" / "ux.md").read_text()
    assert "| 2 | 2 | 0 | 0 | 0 |" in md and "`fake-sched`" in md and "--ux-source" in md, md
    # The config was written into a copy; the given tree is untouched.
    assert (STANDIN / "ux_test_config.yaml").read_text() == before
    written = next((project / ".mfx_ux").rglob("ux_test_config.yaml"))
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(OmegaConf.load(written))
    assert cfg["backends"] == [{"name": "fake-sched", "scheduler_type": "fake-sched", "cluster": None, "decospec": None,
                                "deploy_args": {"queue": "q-1", "priority": 3}, "enabled": True}]
    profile = json.loads((project / ".mfx_ux" / "metaflow_home" / f"config_{ux.PROFILE}.json").read_text())
    assert profile["METAFLOW_DEFAULT_DATASTORE"] == "local"
    # The devstack was started and stopped; its datastore is the run's, and the copy sits under it
    # (cards are written relative to the working directory).
    state = project / ".mfx_ux" / "devstack"
    assert (state / "was-up").exists() and (state / "was-down").exists()
    assert Path(profile["METAFLOW_DATASTORE_SYSROOT_LOCAL"]) == state / "ds" == written.parent.parent


def test_conda_tests_run_when_asked_and_the_users_marker_is_kept(tmp_path: Path) -> None:
    project = _project(tmp_path / "ext")
    proc = _run(["--ux-source", str(STANDIN), "--conda", "yes", "-m", "conda or not basic", "-k", "conda or config"],
                {"MFX_DEVSTACK_ENV": ""}, project)
    results = _junit(project / "reports" / "ux.xml")
    assert results == {"test_conda_is_deselected": "failed", "test_config_names_one_backend_with_a_scheduler": "passed"}, \
        proc.stdout[-3000:]
    assert proc.returncode == 1  # pytest's code: the stand-in's conda test fails by design when it runs
    assert "1 failed" in proc.stdout and "test_conda_is_deselected" in (project / "reports" / "ux.md").read_text()


def test_a_devstack_that_does_not_start_is_one_message(tmp_path: Path) -> None:
    project = _project(tmp_path / "ext", devstack='["python", "-c", "import sys; sys.exit(3)"]')
    proc = _run(["--ux-source", str(STANDIN)], {"MFX_DEVSTACK_ENV": ""}, project)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("mfx ux: the devstack did not start") and "exited 3" in proc.stderr
    assert not (project / "reports" / "ux.xml").exists()


SLOW_STACK = """import sys, time
from pathlib import Path
action, state = sys.argv[1], Path(sys.argv[3])
state.mkdir(parents=True, exist_ok=True)
(state / ("was-" + action)).write_text("1")
if action == "up":
    time.sleep(120)
"""


def test_sigterm_while_the_devstack_starts_still_stops_it(tmp_path: Path) -> None:
    project = _project(tmp_path / "ext", devstack='["python", "stack.py"]')
    (project / "stack.py").write_text(SLOW_STACK)
    proc = subprocess.Popen([sys.executable, "-m", "mfx.compliance.ux", "--ux-source", str(STANDIN), "--conda", "no"],
                            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MFX_DEVSTACK_ENV": ""})
    state = project / ".mfx_ux" / "devstack"
    deadline = time.monotonic() + 60
    while not (state / "was-up").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.terminate()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert (state / "was-down").exists(), "the half-started devstack was not stopped"
    assert "Traceback" not in err and "interrupted" in err, err


# -- no source: one clear message, bounded ------------------------------------------------------


def test_without_source_and_no_github_says_what_it_needs(tmp_path: Path) -> None:
    project = _project(tmp_path / "ext")
    env = {"MFX_UX_CACHE": str(tmp_path / "cache"), "MFX_UX_REPO": f"http://127.0.0.1:{_closed_port()}/metaflow.git"}
    started = time.monotonic()
    proc = _run([], env, project, timeout=120)
    assert time.monotonic() - started < 60
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr
    assert "Traceback" not in err and err.count("mfx ux:") == 1 and len(err.strip().splitlines()) == 1, err
    assert f"tag {VERSION}" in err and "--ux-source" in err and "not in Metaflow's wheel or sdist" in err, err
    assert not (tmp_path / "cache" / VERSION).exists() and not list((tmp_path / "cache").glob(".*"))


def test_a_silent_server_is_cut_off_by_the_clone_timeout(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept() -> None:  # accept and never answer
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.getsockname()[1]}/metaflow.git"
        started = time.monotonic()
        with pytest.raises(ux.UxError) as err:
            ux.resolve_source(None, VERSION, env={"MFX_UX_CACHE": str(tmp_path / "c"), "MFX_UX_REPO": url}, timeout=3)
        assert time.monotonic() - started < 15
        assert "did not finish in 3 s" in str(err.value) and "--ux-source" in str(err.value)
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize("given", ["missing", "empty", "file"])
def test_a_wrong_ux_source_is_named(tmp_path: Path, given: str) -> None:
    path = tmp_path / given
    if given == "empty":
        path.mkdir()
    elif given == "file":
        path.write_text("x")
    with pytest.raises(ux.UxError) as err:
        ux.resolve_source(str(path), VERSION, env={"MFX_UX_CACHE": str(tmp_path / "c")})
    assert str(path) in str(err.value) and "--ux-source" in str(err.value)


# -- the sparse clone, from a real (local) git repository ---------------------------------------


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_sparse_clone_at_the_version_tag_is_cached(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    origin = tmp_path / "metaflow"
    shutil.copytree(STANDIN, origin / "test" / "ux")
    (origin / "metaflow").mkdir()
    (origin / "metaflow" / "big.py").write_text("x = 1\n")
    _git("init", "-q", cwd=origin)
    _git("add", "-A", cwd=origin)
    _git("commit", "-qm", "tagged", cwd=origin)
    _git("tag", VERSION, cwd=origin)
    (origin / "test" / "ux" / "after-the-tag.txt").write_text("not at the tag")
    _git("add", "-A", cwd=origin)
    _git("commit", "-qm", "later", cwd=origin)
    env = {"MFX_UX_CACHE": str(tmp_path / "cache"), "MFX_UX_REPO": origin.as_uri()}

    tree, source = ux.resolve_source(None, VERSION, env=env, timeout=60)
    assert tree == tmp_path / "cache" / VERSION / "test" / "ux" and (tree / "core" / "test_standin.py").is_file()
    assert not (tree / "after-the-tag.txt").exists()  # the tag, not the branch head
    assert not (tmp_path / "cache" / VERSION / "metaflow").exists()  # sparse: test/ux only
    assert "clone of" in source
    shutil.rmtree(origin)  # the second time the cache answers, the origin is not asked
    again, source = ux.resolve_source(None, VERSION, env=env, timeout=5)
    assert again == tree and source.startswith("cached clone")


def test_a_missing_tag_is_named(tmp_path: Path) -> None:
    origin = tmp_path / "metaflow"
    shutil.copytree(STANDIN, origin / "test" / "ux")
    _git("init", "-q", cwd=origin)
    _git("add", "-A", cwd=origin)
    _git("commit", "-qm", "untagged", cwd=origin)
    with pytest.raises(ux.UxError) as err:
        ux.resolve_source(None, VERSION, env={"MFX_UX_CACHE": str(tmp_path / "c"), "MFX_UX_REPO": origin.as_uri()})
    assert "cloning" in str(err.value) and VERSION in str(err.value)
    assert not (tmp_path / "c" / VERSION).exists()


# -- units -----------------------------------------------------------------------------------------


def test_cache_dir_follows_the_user_cache_conventions(tmp_path: Path) -> None:
    assert ux.cache_dir({"MFX_UX_CACHE": str(tmp_path)}) == tmp_path
    assert ux.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "mfx" / "metaflow-ux"
    assert ux.cache_dir({}) == Path.home() / ".cache" / "mfx" / "metaflow-ux"


def test_ux_tree_accepts_a_checkout_or_its_test_ux(tmp_path: Path) -> None:
    shutil.copytree(STANDIN, tmp_path / "checkout" / "test" / "ux")
    assert ux.ux_tree(tmp_path / "checkout") == tmp_path / "checkout" / "test" / "ux"
    assert ux.ux_tree(tmp_path / "checkout" / "test" / "ux") == tmp_path / "checkout" / "test" / "ux"
    assert ux.ux_tree(tmp_path / "checkout" / "test") is None


@pytest.mark.parametrize(("env", "user"), [
    ({"USER": "root"}, ux.NON_ROOT_USER), ({}, ux.NON_ROOT_USER), ({"USER": ""}, ux.NON_ROOT_USER),
    ({"USER": "alice"}, "alice"), ({"USER": "root", "LOGNAME": "bob"}, "bob"), ({"METAFLOW_USER": "carol"}, "carol"),
])
def test_the_user_is_never_root(env: dict, user: str) -> None:
    assert ux.non_root_user(env) == user


def test_environment_devstack_wins_and_home_profile_user_are_set(tmp_path: Path) -> None:
    base = {"USER": "root", "METAFLOW_USER": "root", "METAFLOW_PROFILE": "local", "PYTEST_ADDOPTS": "-x",
            "METAFLOW_DEFAULT_DATASTORE": "s3"}
    env = ux.ux_env(base, tmp_path, {"METAFLOW_DATASTORE_SYSROOT_LOCAL": str(tmp_path / "ds"), "METAFLOW_X": "1"})
    assert env["METAFLOW_PROFILE"] == ux.PROFILE and env["METAFLOW_HOME"] == str(tmp_path / "metaflow_home")
    assert env["USER"] == env["USERNAME"] == env["METAFLOW_USER"] == ux.NON_ROOT_USER
    assert env["METAFLOW_X"] == "1" and env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] == str(tmp_path / "ds")
    assert env["METAFLOW_DEFAULT_DATASTORE"] == "s3"  # the user's (or the devstack's) choice is kept
    assert "PYTEST_ADDOPTS" not in env  # the outer pytest's options do not leak into the suite
    profile = json.loads((tmp_path / "metaflow_home" / f"config_{ux.PROFILE}.json").read_text())
    assert profile["METAFLOW_DATASTORE_SYSROOT_LOCAL"] == str(tmp_path / "ds")
    assert ux.tree_location(env, tmp_path) == tmp_path / "test-ux"  # s3: not under a local root
    env["METAFLOW_DEFAULT_DATASTORE"] = "local"
    assert ux.tree_location(env, tmp_path) == tmp_path / "ds" / "test-ux"


@pytest.mark.parametrize(("extra", "deselect", "expected"), [
    ([], True, ["-m", "not conda"]),
    ([], False, []),
    (["-k", "x"], True, ["-m", "not conda", "-k", "x"]),
    (["-m", "basic", "-x"], True, ["-m", "not conda and (basic)", "-x"]),
    (["-mbasic"], False, ["-m", "basic"]),
])
def test_marker_expression(extra: list, deselect: bool, expected: list) -> None:
    assert ux.marker_expression(extra, deselect) == expected


def test_pytest_command_is_its_own_process_without_the_compliance_plugin(tmp_path: Path) -> None:
    shutil.copytree(STANDIN, tmp_path / "ux")
    cmd = ux.pytest_command(tmp_path / "ux", tmp_path / "r", [], True)
    assert cmd[:3] == [sys.executable, "-m", "pytest"] and str(tmp_path / "ux" / "core") in cmd
    assert "no:mfx_compliance" in cmd and "--mfx-compliance" not in cmd
    assert not any("scheduler-type" in a for a in cmd)  # it drops deploy_args (O31): the config file selects


def test_conda_probe_is_bounded() -> None:
    started = time.monotonic()
    assert ux.conda_reachable(f"http://127.0.0.1:{_closed_port()}/", timeout=2) is False
    assert time.monotonic() - started < 10


def test_a_backend_project_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "ext"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.mfx.compliance]\nkind = "backend"\nplugin = "x"\ncapabilities = "a:B"\n')
    proc = _run(["--ux-source", str(STANDIN)], {}, project)
    assert proc.returncode == 2 and "orchestrators" in proc.stderr and "Traceback" not in proc.stderr
