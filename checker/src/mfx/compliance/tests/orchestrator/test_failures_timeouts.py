"""@timeout enforcement, in seconds and in minutes (both runs are launched early and overlap)."""

from __future__ import annotations

import pytest

from mfx.compliance.expect import ComplianceFailure, pitfall
from mfx.compliance.harness import FAILED_STATUSES, Harness
from mfx.compliance.tests.orchestrator.specs import SPECS, TIMEOUT_LIMITS


@pytest.mark.capability("timeout")
@pytest.mark.parametrize("key", ["timeout_seconds", "timeout_minutes"])
def test_timeout_is_enforced(h: Harness, key: str) -> None:
    try:
        handle = h.finish(SPECS[key])
    except ComplianceFailure as exc:
        # The harness diagnosed the run from its tasks: O17 when the step still runs past its
        # @timeout, O22 when the step was stopped but the run never reports FAILED, and so on.
        raise AssertionError(f"{key}: {exc}") from None
    outcome = handle.outcome
    assert not outcome.run.successful and outcome.status in FAILED_STATUSES, pitfall(
        "O17", f"{key}: a step past its @timeout ended {outcome.status!r}", fix="run the step as a separate process (SIGALRM in its main thread) and honour minutes/hours"
    )
    # The step would sleep 240 s: an attempt that ended well before that was stopped by the limit.
    task = outcome.run["start"].task
    if task.created_at is not None and task.finished_at is not None:
        lasted = (task.finished_at - task.created_at).total_seconds()
        assert lasted < TIMEOUT_LIMITS[key], pitfall("O17", f"{key}: the step ran {lasted:.0f} s before failing", fix="use get_run_time_limit_for_task() (seconds, minutes and hours)")
