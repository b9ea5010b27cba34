"""The Airflow 3 preset's devstack, assembled from template/presets/orchestrator-airflow/ for tests
and benchmarks without rendering a whole repository (a generated `preset=airflow` repository has
the same three files; its settings are named after MODULE_NAME, the preset's default module, so
tests/presets/airflow/test_airflow_compliance.py runs a generated repository on this devstack).

A project directory gets what a generated repository would: devstack/run.py (the generic process
manager), devstack/airflow_stack.py and devstack/services.json (rendered). `Devstack` drives it
through run.py exactly as a user (or `mfx compliance`) does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Optional

import jinja2

REPO = Path(__file__).resolve().parents[2]
PRESET = REPO / "template" / "presets" / "orchestrator-airflow"
RUN_PY = REPO / "template" / "{% if devstack %}devstack{% endif %}" / "run.py"
MODULE_NAME = "mf_airflow"


def jinja_env() -> jinja2.Environment:
    """The environment copier renders with (copier.yml `_envops`), rooted where copier's loader is."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(REPO)), keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def render_preset_file(relative: str, **context: object) -> str:
    context = {"module_name": MODULE_NAME, "plugin_name": MODULE_NAME.replace("_", "-"), **context}
    path = (PRESET / relative).relative_to(REPO).as_posix()
    return jinja_env().get_template(path).render(**context)


def load_module(relative: str, name: str) -> ModuleType:
    """Import a plain-Python preset file by path."""
    spec = importlib.util.spec_from_file_location(name, PRESET / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def client_module() -> ModuleType:
    return sys.modules.get("preset_airflow_client") or load_module("plugin/airflow_client.py", "preset_airflow_client")


def stack_module() -> ModuleType:
    return sys.modules.get("preset_airflow_stack") or load_module("devstack/airflow_stack.py", "preset_airflow_stack")


def assemble_project(dst: Path) -> Path:
    devstack = dst / "devstack"
    devstack.mkdir(parents=True, exist_ok=True)
    shutil.copy2(RUN_PY, devstack / "run.py")
    shutil.copy2(PRESET / "devstack" / "airflow_stack.py", devstack / "airflow_stack.py")
    (devstack / "services.json").write_text(render_preset_file("devstack/services.json.jinja"), encoding="utf-8")
    return dst


def rss_kib(pid: int) -> int:
    try:
        for line in Path("/proc/%d/status" % pid).read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Devstack:
    """One project's devstack, driven through `python devstack/run.py ...`."""

    def __init__(self, project: Path, python: str = sys.executable) -> None:
        self.project = project
        self.state = project / ".devstack"
        self.python = python

    def run(self, action: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return subprocess.run([self.python, str(self.project / "devstack" / "run.py"), action, "--state-dir", str(self.state)],
                              cwd=self.project, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def up(self, timeout: float = 1800.0) -> Dict[str, str]:
        done = self.run("up", timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError("devstack up failed (exit %d):\n%s\n%s\n--- airflow.log ---\n%s"
                               % (done.returncode, done.stdout[-3000:], done.stderr[-3000:], self.log_tail()))
        return self.env()

    def down(self, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return self.run("down", timeout=timeout)

    def env(self) -> Dict[str, str]:
        return json.loads((self.state / "env.json").read_text(encoding="utf-8"))

    def log_tail(self, name: str = "airflow.log", lines: int = 40) -> str:
        try:
            return "\n".join((self.state / name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no %s)" % name

    def leader(self) -> Optional[int]:
        pid_file = self.state / "airflow.pid"
        return int(pid_file.read_text().strip()) if pid_file.exists() else None

    def processes(self) -> List[int]:
        """The supervisor and everything under it (components, executor workers, task processes)."""
        leader = self.leader()
        if leader is None:
            return []
        return [leader, *stack_module().descendants(leader)]

    def rss_mib(self) -> float:
        return sum(rss_kib(pid) for pid in self.processes()) / 1024.0

    def client(self, timeout: float = 20.0):
        env = self.env()
        prefix = "METAFLOW_%s_" % MODULE_NAME.upper()
        return client_module().AirflowClient(env[prefix + "API_URL"], username=env[prefix + "USERNAME"],
                                             password_file=env[prefix + "PASSWORD_FILE"], timeout=timeout)

    def dags_folder(self) -> Path:
        return Path(self.env()["METAFLOW_%s_DAGS_FOLDER" % MODULE_NAME.upper()])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path("/proc/%d/stat" % pid).read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def wait_gone(pids: List[int], timeout: float) -> List[int]:
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [p for p in left if alive(p)]
    return left
