"""@project branches computed in every task: --branch, --production and the deploying user."""

from __future__ import annotations

import uuid

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, task_data


@pytest.mark.capability("project-branch")
def test_branch_reaches_every_task(h: Harness, mfx_tag: str) -> None:
    branch = f"b{uuid.uuid4().hex[:8]}"
    run = h.run("project_flow", tags=[mfx_tag], test="project-branch", branch=branch).run
    for step in ("start", "end"):
        key = f"{step}_branch"
        got = getattr(task_data(run, step), key)
        assert got == f"test.{branch}", pitfall("O13", f"{step} computed branch {got!r}, expected 'test.{branch}'", fix="forward the raw --branch to init and every step")


@pytest.mark.capability("production-branch")
def test_production_reaches_every_task(h: Harness, mfx_tag: str) -> None:
    run = h.run("project_flow", tags=[mfx_tag], test="production-branch", production=True).run
    end = task_data(run, "end")
    assert end.end_branch == "prod" and end.end_production is True, pitfall(
        "O13", f"end computed branch {end.end_branch!r} (production={end.end_production!r})", fix="forward --production to every step"
    )
    assert task_data(run, "start").start_branch == "prod", pitfall("O13", "start did not compute the prod branch")


@pytest.mark.capability("user-branch")
def test_user_branch_uses_deploying_user(h: Harness, mfx_tag: str) -> None:
    user = f"mfxowner{uuid.uuid4().hex[:6]}"
    run = h.run("project_flow", tags=[mfx_tag], test="user-branch", env={"METAFLOW_USER": user}).run
    got = task_data(run, "end").end_branch
    assert got == f"user.{user}", pitfall("O14", f"end computed branch {got!r}, expected 'user.{user}'", fix="set METAFLOW_OWNER to the deploying user in every task's env")
