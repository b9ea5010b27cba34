"""Lifecycle: create, trigger (asynchronous), status (incl. FAILED), tags, ids, list, delete."""

from __future__ import annotations

import time

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import FAILED_STATUSES, Harness, deployment_identifier
from mfx.compliance.runspec import Spec

FORBIDDEN = set(",:/!")


@pytest.mark.capability("create")
def test_create_returns_named_deployment(h: Harness, mfx_tag: str) -> None:
    started = time.monotonic()
    deployed = h.create("linear_flow", tags=[mfx_tag])
    elapsed = time.monotonic() - started
    assert elapsed < 60, pitfall("O1", f"create() took {elapsed:.0f} s", fix="write the attribute file on every exit-0 path")
    assert deployed.name, pitfall("O1", "deployment has an empty name", fix="write 'name' into the create attribute file")
    assert deployed.flow_name == "MfxLinearFlow", pitfall(
        "O1,O23", f"deployed.flow_name is {deployed.flow_name!r}, expected the flow class name", fix="write obj.flow.name as 'flow_name'"
    )


# The plain linear run: read by the status, tags, run-id-rules and task-logs tests here and by
# get-triggered-run (test_deployments).
LINEAR = Spec("linear", "linear", "linear_flow", extra_tags=("mfx-compliance",), order=10)
@pytest.mark.capability("linear")
@pytest.mark.mfx_run(LINEAR)
def test_linear_flow_runs(h: Harness) -> None:
    run = h.finish(LINEAR).run
    # which steps ran; their order is proven by the artifact each step extends (the client lists a run's
    # steps by their creation timestamps, which is no contract of the order they ran in)
    assert sorted(s.id for s in run) == ["end", "middle", "start"], pitfall("O18", f"steps {sorted(s.id for s in run)}, expected start, middle, end")
    message = run["end"].task.data.message
    assert message == "linear-middle-end", pitfall("O18", f"artifacts did not flow from step to step in order: end saw {message!r}, expected 'linear-middle-end'")
    assert run["start"].task.data.first_retry_count == 0, pitfall(
        "O15", f"first attempt ran with retry_count={run['start'].task.data.first_retry_count}", fix="pass the 0-based attempt as --retry-count"
    )


@pytest.mark.capability("status")
@pytest.mark.mfx_run(LINEAR)
def test_status_reaches_succeeded(h: Harness) -> None:
    outcome = h.finish(LINEAR).outcome
    assert outcome.run.successful
    assert outcome.status == "SUCCEEDED" or outcome.triggered.status.upper() == "SUCCEEDED", pitfall(
        "O22", f"status of a successful run is {outcome.triggered.status!r} (seen {outcome.statuses_seen})", fix="map the engine's success state to SUCCEEDED"
    )
    assert outcome.run.id == outcome.triggered.pathspec.split("/")[1], pitfall(
        "O2", f"run id {outcome.run.id} differs from the trigger pathspec {outcome.triggered.pathspec}", fix="use one run id for the payload and the tasks"
    )


@pytest.mark.capability("tags")
@pytest.mark.mfx_run(LINEAR)
def test_tags_reach_run(h: Harness) -> None:
    from metaflow import Flow, namespace

    run = h.finish(LINEAR).run
    tag = LINEAR.tags(h.session_tag)[0]
    assert {tag, "mfx-compliance"} <= set(run.tags), pitfall("O29", f"run tags {sorted(run.tags)} lack the create() tags", fix="forward create(tags) to init and every step as --tag")
    end_tags = set(run["end"].task.tags)
    assert tag in end_tags, pitfall("O29", f"end task tags {sorted(end_tags)} lack {tag}", fix="pass --tag to every step command too")
    namespace(None)
    found = [r.id for r in Flow("MfxLinearFlow").runs(tag)]
    assert found == [run.id], pitfall("O29", f"runs found by tag: {found}, expected [{run.id}]")


@pytest.mark.capability("run-id-rules")
@pytest.mark.mfx_run(LINEAR)
def test_run_and_task_ids_follow_rules(h: Harness) -> None:
    run = h.finish(LINEAR).run
    assert not run.id.isdigit(), pitfall("O19", f"run id {run.id} is numeric", fix="prefix run ids, e.g. '<engine>-<hex>'")
    assert not FORBIDDEN & set(run.id), pitfall("O19", f"run id {run.id!r} contains one of , : / !")
    for step in run:
        for task in step:
            assert not FORBIDDEN & set(task.id), pitfall("O19", f"task id {task.pathspec!r} contains one of , : / !")
            assert len(list(step)) == 1, pitfall("O15", f"step {step.id} has {len(list(step))} tasks", fix="keep the task id stable across retries")


@pytest.mark.capability("trigger-async")
def test_trigger_returns_before_run_ends(h: Harness, mfx_tag: str) -> None:
    deployed = h.create("sleep_flow", tags=[mfx_tag])
    triggered, seconds = h.trigger(deployed, seconds=60)
    try:
        assert seconds < 30, pitfall(
            "O24", f"trigger() took {seconds:.0f} s on a flow that sleeps 60 s", fix="start the run and return; never wait for it, never leave a child on the CLI's stdout/stderr"
        )
        status = triggered.status
        assert status is None or str(status).upper() in ("PENDING", "RUNNING"), pitfall("O22,O24", f"status right after trigger() is {status!r}")
    finally:
        terminate = getattr(triggered, "terminate", None)
        if callable(terminate):
            try:
                terminate()
            except Exception:  # best effort: freeing the worker is not what this test checks
                pass


# A run whose step fails: also read by task-logs and resumed by test_deployments.
FAIL = Spec("fail", "status-failed", "fail_flow", expect_success=False)
@pytest.mark.capability("status-failed")
@pytest.mark.mfx_run(FAIL)
def test_failing_run_reports_failed(h: Harness) -> None:
    outcome = h.finish(FAIL).outcome
    assert outcome.status in FAILED_STATUSES and outcome.status == "FAILED", pitfall(
        "O22", f"a failing run ended with status {outcome.status!r} (seen {outcome.statuses_seen})", fix="map the engine's failure states to FAILED"
    )
    assert not outcome.run.successful
    assert "end" not in [s.id for s in outcome.run], pitfall("O18", "steps after the failed one ran", fix="a task failure must fail the run")


@pytest.mark.capability("task-logs")
@pytest.mark.mfx_run(LINEAR, FAIL)
def test_task_logs_are_saved(h: Harness) -> None:
    stdout = h.finish(LINEAR).run["middle"].task.stdout
    assert "mfx-stdout-token" in stdout, pitfall(
        "", f"task.stdout of the middle step is {stdout[-300:]!r}", fix="save each task's stdout/stderr to the datastore (mflog), as Metaflow's runtime and Argo do"
    )
    failed = h.finish(FAIL).run
    stderr = failed["boom"].task.stderr
    assert "Intentional failure" in stderr, pitfall("", f"the failed task's stderr does not show the user's error: {stderr[-300:]!r}", fix="save task logs also when the task fails")


@pytest.mark.capability("list-deployments")
def test_list_deployed_flows_includes_deployment(h: Harness, mfx_tag: str) -> None:
    from metaflow.runner.deployer import DeployedFlow

    deployed = h.create("linear_flow", tags=[mfx_tag])
    names = [d.name for d in DeployedFlow.list_deployed_flows(flow_name="MfxLinearFlow", impl=h.engine.config.deployer_method)]
    assert deployed.name in names, pitfall("O23", f"{deployed.name} not in list_deployed_flows(): {names}", fix="override list_deployed_flows as a classmethod")


@pytest.mark.capability("delete")
def test_delete_removes_deployment(h: Harness, mfx_tag: str) -> None:
    from metaflow.runner.deployer import DeployedFlow

    deployed = h.create("branch_flow", tags=[mfx_tag])
    identifier = deployment_identifier(deployed)
    assert deployed.delete(), "delete() returned a falsy value"
    try:
        DeployedFlow.from_deployment(identifier, impl=h.engine.config.deployer_method)
    except Exception as exc:  # noqa: BLE001 - any "not found" error of the provider is right
        assert deployed.name in str(exc) or identifier in str(exc) or "not found" in str(exc).lower() or "no deployment" in str(exc).lower(), f"unclear error: {exc}"
    else:
        pytest.fail(f"from_deployment still finds {deployed.name!r} after delete()")


@pytest.mark.capability("schedule")
def test_schedule_flow_deploys(h: Harness, mfx_tag: str) -> None:
    deployed = h.create("schedule_flow", tags=[mfx_tag])
    assert deployed.name

