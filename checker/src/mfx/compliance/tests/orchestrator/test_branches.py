"""@project branches computed in every task: --branch, --production and the deploying user."""

from __future__ import annotations

import uuid

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, task_data
from mfx.compliance.runspec import Spec

_SUFFIX = uuid.uuid4().hex[:8]
BRANCH = f"b{_SUFFIX}"
OWNER = f"mfxowner{_SUFFIX}"


PROJECT_BRANCH = Spec("project_branch", "project-branch", "project_flow", top_level={"branch": BRANCH})
@pytest.mark.capability("project-branch")
@pytest.mark.mfx_run(PROJECT_BRANCH)
def test_branch_reaches_every_task(h: Harness) -> None:
    run = h.finish(PROJECT_BRANCH).run
    for step in ("start", "end"):
        got = getattr(task_data(run, step), f"{step}_branch")
        assert got == f"test.{BRANCH}", pitfall("O13", f"{step} computed branch {got!r}, expected 'test.{BRANCH}'", fix="forward the raw --branch to init and every step")


PROJECT_PRODUCTION = Spec("project_production", "production-branch", "project_flow", top_level={"production": True})
@pytest.mark.capability("production-branch")
@pytest.mark.mfx_run(PROJECT_PRODUCTION)
def test_production_reaches_every_task(h: Harness) -> None:
    run = h.finish(PROJECT_PRODUCTION).run
    end = task_data(run, "end")
    assert end.end_branch == "prod" and end.end_production is True, pitfall(
        "O13", f"end computed branch {end.end_branch!r} (production={end.end_production!r})", fix="forward --production to every step"
    )
    assert task_data(run, "start").start_branch == "prod", pitfall("O13", "start did not compute the prod branch")


PROJECT_USER = Spec("project_user", "user-branch", "project_flow", env={"METAFLOW_USER": OWNER})
@pytest.mark.capability("user-branch")
@pytest.mark.mfx_run(PROJECT_USER)
def test_user_branch_uses_deploying_user(h: Harness) -> None:
    run = h.finish(PROJECT_USER).run
    got = task_data(run, "end").end_branch
    assert got == f"user.{OWNER}", pitfall("O14", f"end computed branch {got!r}, expected 'user.{OWNER}'", fix="set METAFLOW_OWNER to the deploying user in every task's env")
