"""Step decorators the orchestrator must honour: @retry, @catch, @resources, @timeout (normal
run) and decorators added at deploy time with Deployer(decospecs=[...])."""

from __future__ import annotations

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, task_data
from mfx.compliance.runspec import Spec

RETRY = Spec("retry", "retry", "retry_flow")
@pytest.mark.capability("retry")
@pytest.mark.mfx_run(RETRY)
def test_retry_is_zero_based_with_one_task(h: Harness) -> None:
    from metaflow import Task

    run = h.finish(RETRY).run
    assert task_data(run, "start").plain_retry_count == 0, pitfall(
        "O15", f"a step without @retry ran with retry_count={task_data(run, 'start').plain_retry_count}", fix="--retry-count is the 0-based attempt (native 1-based counters minus 1)"
    )
    tasks = list(run["flaky"])
    assert len(tasks) == 1, pitfall("O15", f"the retried step has {len(tasks)} tasks", fix="keep the task id stable across attempts")
    flaky = tasks[0]
    assert flaky.data.succeeded_on == 1, pitfall("O15", f"succeeded on attempt {flaky.data.succeeded_on}, expected 1")
    first = Task(flaky.pathspec, attempt=0, _namespace_check=False)
    assert not first.successful, pitfall("O15", "no failed attempt 0 is recorded: the first attempt did not run with retry_count 0")


CATCH = Spec("catch", "catch", "catch_flow")
@pytest.mark.capability("catch")
@pytest.mark.mfx_run(CATCH)
def test_catch_runs_user_code_and_keeps_error(h: Harness) -> None:
    run = h.finish(CATCH).run
    error = task_data(run, "join").doomed_error
    assert "Intentional error" in error, pitfall(
        "O16", f"@catch stored {error[:300]!r} instead of the user's exception", fix="pass --max-user-code-retries so attempt 0 runs the user code"
    )


@pytest.mark.capability("retry-with-catch")
@pytest.mark.mfx_run(CATCH)
def test_retry_happens_before_catch(h: Harness) -> None:
    run = h.finish(CATCH).run
    data = task_data(run, "join")
    assert data.flaky_error is None and data.succeeded_on == 1, pitfall(
        "O15,O16", f"@retry(times=1)+@catch: error={data.flaky_error!r}, succeeded_on={data.succeeded_on!r}", fix="native retries = user + error retries; --max-user-code-retries = user retries"
    )


RESOURCES = Spec("resources", "resources", "resources_flow")
@pytest.mark.capability("resources")
@pytest.mark.mfx_run(RESOURCES)
def test_resources_do_not_break_run(h: Harness) -> None:
    run = h.finish(RESOURCES).run
    assert task_data(run, "join").labels == ["medium", "small"], pitfall("O26", "@resources steps did not both run")


TIMEOUT_OK = Spec("timeout_ok", "timeout-normal-run", "timeout_ok_flow")
@pytest.mark.capability("timeout-normal-run")
@pytest.mark.mfx_run(TIMEOUT_OK)
def test_timeout_allows_normal_step(h: Harness) -> None:
    run = h.finish(TIMEOUT_OK).run
    assert task_data(run, "start").done is True, pitfall("O17", "a step well within its @timeout did not complete")


DYNAMIC = Spec("dynamic", "dynamic-decorators", "always_fails_flow", top_level={"decospecs": ["catch:var=dynamic_error"]})
@pytest.mark.capability("dynamic-decorators")
@pytest.mark.mfx_run(DYNAMIC)
def test_decospecs_reach_tasks(h: Harness) -> None:
    run = h.finish(DYNAMIC).run
    error = str(task_data(run, "boom").dynamic_error)
    assert "Intentional failure" in error, pitfall(
        "O28", f"the --with catch decorator did not act in the task (dynamic_error={error[:200]!r})", fix="pass --with <spec> for every dynamically added decorator on each step command"
    )
