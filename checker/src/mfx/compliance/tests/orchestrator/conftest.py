"""Fixtures of the orchestrator tests: one Harness for the session, and the prefetch of runs."""

from __future__ import annotations

from typing import Iterator, Set

import pytest

from mfx.compliance.harness import Harness
from mfx.compliance.tests.orchestrator.specs import ALSO_USED_BY, SPECS


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


def _wanted(session: pytest.Session) -> Set[str]:
    """Capabilities of the selected tests that will really run (not skipped)."""
    wanted: Set[str] = set()
    for item in session.items:
        if item.get_closest_marker("skip") is not None:
            continue
        for marker in item.iter_markers("capability"):
            wanted.add(str(marker.args[0]))
    return wanted


@pytest.fixture(scope="session", autouse=True)
def _prefetch(request: pytest.FixtureRequest) -> None:
    """Create and trigger every selected run now, so runs overlap; tests then wait for theirs."""
    wanted = _wanted(request.session)
    keys = {spec.key for spec in SPECS.values() if spec.capability in wanted}
    keys |= {key for c in wanted for key in ALSO_USED_BY.get(c, ())}
    if not keys:
        return
    h = request.getfixturevalue("h")
    for spec in sorted((SPECS[k] for k in keys), key=lambda s: s.order):
        h.launch(spec)
