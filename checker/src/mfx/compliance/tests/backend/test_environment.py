"""`--environment=uv`: the backend runs Metaflow's environment bootstrap in the job (B8, B11, B24).

The run starts from a tiny uv project (pyproject.toml + uv.lock, locked here with the launcher's
``uv``) that pins ``six`` to a version the launcher does not need to have. A backend that skips
``environment.bootstrap_commands`` / ``environment.executable`` runs the task with the base
interpreter: the pinned version is missing and ``sys.prefix`` is not the job's ``.venv``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.tests.backend.runs import BackendRuns, artifact

PINNED = "1.16.0"
PYPROJECT = """\
[project]
name = "mfx-uv-probe"
version = "0.0.0"
requires-python = ">=3.9"
dependencies = ["six==%s"]

[tool.uv]
package = false
""" % PINNED
LOCK_TIMEOUT = 180


def _uv_project(workdir: Path) -> Path:
    """A locked uv project below the session workdir (local metadata stays in <workdir>/.metaflow)."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("`uv` is not on PATH: cannot lock the uv project this check runs from (pip install uv)")
    project = workdir / "uv-project"
    project.mkdir(exist_ok=True)
    (workdir / ".metaflow").mkdir(exist_ok=True)
    (project / "pyproject.toml").write_text(PYPROJECT)
    try:
        proc = subprocess.run([uv, "lock"], cwd=str(project), capture_output=True, text=True, timeout=LOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.skip("`uv lock` did not finish in %d s (is PyPI reachable?)" % LOCK_TIMEOUT)
    if proc.returncode != 0:
        pytest.skip("`uv lock` failed, PyPI unreachable? %s" % proc.stderr.strip()[-500:])
    return project


@pytest.mark.capability("uv-environment")
def test_uv_environment_bootstrapped(bk: BackendRuns) -> None:
    project = _uv_project(bk.workdir)
    result = bk.run("uv_env_flow", top_level={"environment": "uv"}, cwd=project, extra_timeout=120)
    assert result.status == "successful" and result.run is not None, bk.explain(
        result, "B8,B11,B24", "a flow run with --environment=uv failed on the backend",
        fix="run environment.bootstrap_commands(step, ds_type) before the step and start it with environment.executable(step); "
        "forward proxy/CA variables; install the extension as a distribution, not via PYTHONPATH",
    )
    for step_name, name in (("start", "probe"), ("end", "end_probe")):
        probe = artifact(result.run, step_name, name)
        assert probe["pinned_version"] == PINNED, pitfall(
            "B8", "%s: the task imported six %r, the uv project pins %s (task interpreter %s)"
            % (step_name, probe["pinned_version"], PINNED, probe["executable"]),
            fix="prepend environment.bootstrap_commands(step, ds_type) to the job's command",
        )
        venv = str(Path(probe["cwd"]) / ".venv")
        assert probe["prefix"] == venv or probe["prefix"].startswith(venv + "/"), pitfall(
            "B8", "%s: the task ran in %s, not in the job's uv environment %s" % (step_name, probe["prefix"], venv),
            fix="start the step with environment.executable(step_name), not a fixed python",
        )
    assert artifact(result.run, "end", "doubled") == 42, pitfall("B11", "artifacts did not round-trip under --environment=uv")
