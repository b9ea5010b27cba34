"""@timeout enforcement, in seconds and in minutes (both runs are launched early and overlap)."""

from __future__ import annotations

import pytest

from mfx.compliance.expect import ComplianceFailure, pitfall
from mfx.compliance.harness import FAILED_STATUSES, Harness
from mfx.compliance.runspec import Spec

TIMEOUT_LIMITS = {"timeout_seconds": 120.0, "timeout_minutes": 200.0}  # seconds the step may last; it would sleep 240 s
# The longest runs of the suite: launched first (order) so they overlap everything else.
TIMEOUT_MINUTES = Spec("timeout_minutes", "timeout", "timeout_minutes_flow", expect_success=False, wait_timeout=TIMEOUT_LIMITS["timeout_minutes"] + 30, order=0)
TIMEOUT_SECONDS = Spec("timeout_seconds", "timeout", "timeout_seconds_flow", expect_success=False, wait_timeout=TIMEOUT_LIMITS["timeout_seconds"] + 30, order=1)
TIMEOUTS = {spec.key: spec for spec in (TIMEOUT_SECONDS, TIMEOUT_MINUTES)}
@pytest.mark.capability("timeout")
@pytest.mark.parametrize("key", [pytest.param(key, marks=pytest.mark.mfx_run(TIMEOUTS[key])) for key in ("timeout_seconds", "timeout_minutes")])
def test_timeout_is_enforced(h: Harness, key: str) -> None:
    try:
        handle = h.finish(TIMEOUTS[key])
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
