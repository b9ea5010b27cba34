"""Retries on the backend: 0-based, real, not hidden, delayed as asked, signals retryable."""

from __future__ import annotations

from typing import Dict, List

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.runspec import Spec
from mfx.compliance.tests.backend.runs import BackendRuns, RunResult, task

# One run read by every test here (each declares it); the longest of the backend suite (a
# deliberate 60 s wait between attempts, B16), so it starts first.
RETRIED = Spec("retry_flow", "retry", "retry_flow", extra_timeout=180, order=0)


@pytest.fixture  # per test: each user must declare the run (the shared result is cached)
def retried(bk: BackendRuns) -> RunResult:
    result = bk.shared(RETRIED)
    assert result.status == "successful", bk.explain(
        result, "B14,B26", "a step that fails once under @retry(times=1) did not succeed on retry",
        fix="exit non-zero but not 202 when the job failed; map signal deaths to 128+N",
    )
    return result


def _starts(run, step: str) -> Dict[int, List[float]]:
    """attempt -> start times recorded by the flow in S3."""
    from metaflow import S3

    out: Dict[int, List[float]] = {}
    with S3(run=run) as s3:
        for obj in s3.get_recursive(["starts/%s/" % step]):
            attempt = int(obj.key.rstrip("/").rsplit("/", 1)[-1].split("-", 1)[0])
            out.setdefault(attempt, []).append(float(obj.text))
    return out


@pytest.mark.capability("retry")
@pytest.mark.mfx_run(RETRIED)
def test_retry_zero_based_and_real(retried: RunResult) -> None:
    flaky = task(retried.run, "flaky")
    assert flaky.data.attempt_seen == 1, pitfall(
        "B14", "the successful attempt saw current.retry_count=%s, expected 1" % flaky.data.attempt_seen,
        fix="pass --retry-count through unchanged; never add or subtract one",
    )
    assert str(flaky.metadata_dict.get("attempt")) == "1", pitfall("B14", "attempt metadata %r, expected '1'" % flaky.metadata_dict.get("attempt"))
    starts = _starts(retried.run, "flaky")
    assert sorted(starts) == [0, 1] and all(len(v) == 1 for v in starts.values()), pitfall(
        "B15", "expected exactly one start of attempts 0 and 1, got %s" % {k: len(v) for k, v in starts.items()},
        fix="no platform-level retries or re-submissions of the same attempt",
    )


@pytest.mark.capability("signal-exit")
@pytest.mark.mfx_run(RETRIED)
def test_signal_death_is_retried(retried: RunResult) -> None:
    killed = task(retried.run, "killed")
    assert killed.data.killed_attempt == 1, pitfall("B26", "the SIGKILLed attempt was not retried")
    assert "will not be retried" not in retried.output, pitfall(
        "B14,B26", "a task that died by a signal was reported as not retryable (202)",
        fix="a job that ran and died is a failure (exit 128+N), not a kill by the platform",
    )


@pytest.mark.capability("retry-delay")
@pytest.mark.mfx_run(RETRIED)
def test_minutes_between_retries(retried: RunResult) -> None:
    starts = _starts(retried.run, "killed")
    assert 0 in starts and 1 in starts, pitfall("B15", "attempt starts of `killed`: %s" % starts)
    gap = min(starts[1]) - max(starts[0])
    assert gap >= 60, pitfall(
        "B16", "attempt 1 started %.0f s after attempt 0 with @retry(minutes_between_retries=1)" % gap,
        fix="sleep minutes_between_retries * 60 in the trampoline when retry_count > 0",
    )
