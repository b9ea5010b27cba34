"""One real Airflow 3 devstack per test session (started by the first test that needs it).

Installing Airflow happens once per machine (a cached venv, see devstack/airflow_stack.py);
starting it takes 30-90 s, so every slow test here shares the same running stack, and the test
that stops it (test_airflow_stop.py) is moved to the end of the session.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.airflow_devstack import Devstack, assemble_project

STOP_TESTS = "test_airflow_stop.py"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: minutes; starts a real engine")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    last = [item for item in items if Path(str(item.fspath)).name == STOP_TESTS]
    if last:
        items[:] = [item for item in items if item not in last] + last


@pytest.fixture(scope="session")
def airflow_devstack(tmp_path_factory: pytest.TempPathFactory):
    project = assemble_project(tmp_path_factory.mktemp("airflow-devstack") / "project")
    stack = Devstack(project)
    started = time.monotonic()
    try:
        stack.up()
    except BaseException:
        stack.down()
        raise
    stack.start_seconds = time.monotonic() - started
    yield stack
    stack.down()
