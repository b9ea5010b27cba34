"""Launch failures, @catch and @timeout on the backend."""

from __future__ import annotations

import pytest

from mfx.compliance.expect import not_run, pitfall
from mfx.compliance.runspec import Spec
from mfx.compliance.tests.backend.runs import BackendRuns, RunResult, task


@pytest.mark.capability("launch-failure")
def test_launch_failure_not_retried(bk: BackendRuns) -> None:
    # Which setting makes a submission fail is the backend's own (a queue, a partition, an
    # account...): the extension names it; the suite never guesses its decorator's attributes.
    spec = bk.engine.config.launch_failure_decospec
    if not spec:
        not_run(
            "set launch_failure_decospec in [tool.mfx.compliance]: a --with spec of @%s under which submitting the job "
            "fails, e.g. \"%s:queue=no-such-queue\"" % (bk.plugin, bk.plugin)
        )
    result = bk.run("linear_flow", decospecs=[spec, "retry:times=2,minutes_between_retries=0"], timeout=240)
    assert result.status == "failed", pitfall(
        "B14", "a run with launch_failure_decospec %r (a submission that must fail) succeeded:\n%s" % (spec, result.tail()),
        fix="launch_failure_decospec must make the submission itself fail (e.g. an unknown queue)",
    )
    assert "This failed task will not be retried" in result.output, pitfall(
        "B13,B14", "the launch failure was not reported with exit 202; launcher output:\n%s" % result.tail(),
        fix="exit METAFLOW_EXIT_DISALLOW_RETRY when submit fails, and never let the metadata sync raise first",
    )
    assert "(retry)" not in result.output, pitfall("B13", "the launch failure was retried:\n%s" % result.tail())


# One run read by the timeout and catch tests (each declares it).
CATCH_TIMEOUT = Spec("catch_timeout_flow", "catch", "catch_timeout_flow", order=2)


@pytest.fixture  # per test: each user must declare the run (the shared result is cached)
def caught(bk: BackendRuns) -> RunResult:
    result = bk.shared(CATCH_TIMEOUT)
    assert result.status == "successful", bk.explain(
        result, "B18,B23", "the @catch/@timeout flow failed",
        fix="let Metaflow's own timeout fire (hard limit = @timeout + slack) and guard remote-only hooks",
    )
    return result


@pytest.mark.capability("timeout")
@pytest.mark.mfx_run(CATCH_TIMEOUT)
def test_timeout_fires_in_task(caught: RunResult) -> None:
    err = getattr(task(caught.run, "boom").data, "timeout_error", None)
    assert err is not None and "timed out" in str(err), pitfall(
        "B18", "@timeout(seconds=10) did not end the step with Metaflow's timeout (caught: %r)" % (err,),
        fix="the job's hard limit must be @timeout plus slack so the in-task alarm fires first",
    )
    timed_attempt0 = task(caught.run, "timed")
    assert "timed out" in (timed_attempt0.stderr or "") or "timed out" in caught.output, pitfall(
        "B18", "no 'timed out' message in the logs", fix="keep the job alive until Metaflow's TimeoutException is logged",
    )


@pytest.mark.capability("catch")
@pytest.mark.mfx_run(CATCH_TIMEOUT)
def test_catch_records_user_error(caught: RunResult, bk: BackendRuns) -> None:
    err = getattr(task(caught.run, "end").data, "boom_error", None)
    assert err is not None and "Intentional error" in str(err), pitfall(
        "B23", "@catch did not record the user's error (got %r)" % (err,),
        fix="guard remote-only work in task_* hooks with the workload env var so the local fallback attempt works",
    )
    # `crash` dies by a signal: the runtime then runs @catch's fallback attempt, locally
    from metaflow import Task

    assert getattr(task(caught.run, "end").data, "crash_error", None) is not None, pitfall(
        "B23", "the @catch fallback of a task killed by a signal did not record an error",
    )
    crash = task(caught.run, "crash")
    last = int(crash.current_attempt)
    assert last >= 1, pitfall("B23", "`crash` has no @catch fallback attempt (last attempt %d)" % last)
    fallback = Task(crash.pathspec, attempt=last, _namespace_check=False)
    remote_only = sorted({m.name for m in fallback.metadata if m.name.startswith(bk.plugin + "-")})
    assert not remote_only, pitfall(
        "B23", "the local @catch fallback attempt %d registered the remote task's metadata %s" % (last, remote_only),
        fix="task_* hooks run in the local fallback too: do remote-only work only when the workload env var is set",
    )
