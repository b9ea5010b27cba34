"""The generated `preset=airflow` repository's own sessions (`nox -s lint tests` on its own test
files) pass: the render matrix's run for this preset (tests/template/test_render_matrix.py),
kept here so the repository's engine tests use this session's Airflow devstack through
``MFX_DEVSTACK_ENV`` instead of starting a second Airflow (the generated `stack` fixture honours
it, as `mfx compliance` does)."""

from __future__ import annotations

import pytest
from support.airflow_devstack import MODULE_NAME
from support.generate import render, run_generated_sessions

pytestmark = pytest.mark.slow  # a real Airflow, a generated repository and its nox sessions


def test_generated_airflow_repo_own_sessions_pass(airflow_devstack, tmp_path) -> None:
    repo = render(tmp_path / "repo", kind="orchestrator", preset="airflow")
    assert (repo / "metaflow_extensions" / MODULE_NAME).is_dir(), "the devstack's settings would not match the module"
    run_generated_sessions(repo, "own", env={"MFX_DEVSTACK_ENV": str(airflow_devstack.state / "env.json")})
