"""Fixtures of the orchestrator tests: one Harness for the session, and the prefetch of runs.

Each test declares the runs it waits for next to itself (``@pytest.mark.mfx_run(SPEC)``, see
:mod:`mfx.compliance.runspec`); the plugin plans the runs of the selected tests, and ``_prefetch``
creates and triggers them before the first test so they overlap on the engine.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from mfx.compliance.harness import Harness
from mfx.compliance.plugin import planned_runs


@pytest.fixture(scope="session")
def h(mfx_engine) -> Harness:
    """Deploy/trigger/wait helper bound to the live engine."""
    return Harness(mfx_engine, "orchestrator")


@pytest.fixture(autouse=True)
def _current_capability(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tell the harness which capabilities the running test checks (a failed run of another one "blocks" it)."""
    if "h" not in request.fixturenames:
        yield
        return
    h = request.getfixturevalue("h")
    h.current = {str(m.args[0]) for m in request.node.iter_markers("capability") if m.args}
    try:
        yield
    finally:
        h.current = set()


@pytest.fixture(scope="session", autouse=True)
def _prefetch(request: pytest.FixtureRequest) -> None:
    """Create and trigger the runs the selected tests declare now, so runs overlap; tests then wait for theirs."""
    runs = planned_runs(request.config)
    if not runs:
        return
    h = request.getfixturevalue("h")
    h.prefetch(runs)
