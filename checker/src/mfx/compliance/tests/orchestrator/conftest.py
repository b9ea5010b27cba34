"""Fixtures of the orchestrator tests: one Harness for the whole session."""

from __future__ import annotations

import pytest

from mfx.compliance.harness import Harness


@pytest.fixture(scope="session")
def h(mfx_engine) -> Harness:
    """Deploy/trigger/wait helper bound to the live engine."""
    return Harness(mfx_engine, "orchestrator")
