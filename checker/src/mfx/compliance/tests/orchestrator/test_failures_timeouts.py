"""@timeout enforcement, in seconds and in minutes (both runs overlap to save wall time)."""

from __future__ import annotations

import time

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.expect import ComplianceFailure
from mfx.compliance.harness import FAILED_STATUSES, Harness


@pytest.mark.capability("timeout")
def test_timeout_is_enforced_in_seconds_and_minutes(h: Harness, mfx_tag: str) -> None:
    runs = {}
    for flow in ("timeout_seconds_flow", "timeout_minutes_flow"):
        deployed = h.create(flow, tags=[mfx_tag])
        triggered, _ = h.trigger(deployed)
        runs[flow] = (triggered, time.monotonic())
    # Each step sleeps 240 s: failing well before that means the limit was enforced.
    limits = {"timeout_seconds_flow": 150, "timeout_minutes_flow": 200}
    for flow, (triggered, started) in runs.items():
        try:
            outcome = h.wait(triggered, expect_success=False, timeout=limits[flow] + 30, test="timeout", flow=flow)
        except ComplianceFailure as exc:
            raise AssertionError(pitfall("O17", f"{flow}: the step was not stopped by its @timeout", fix="honour @timeout (seconds and minutes)") + f"\n{exc}") from None
        elapsed = time.monotonic() - started
        assert not outcome.run.successful and outcome.status in FAILED_STATUSES, pitfall(
            "O17", f"{flow}: a step past its @timeout ended {outcome.status!r}", fix="run the step as a separate process (SIGALRM in its main thread) and honour minutes/hours"
        )
        assert elapsed < limits[flow], pitfall("O17", f"{flow}: the run failed only after {elapsed:.0f} s", fix="use get_run_time_limit_for_task() for outer limits")
