"""Recovering deployments and runs: from_deployment (dotted @project names, configs, typed
parameters), get_triggered_run, and resume."""

from __future__ import annotations

import uuid

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, deployment_identifier, task_data
from mfx.compliance.runspec import Spec
from mfx.compliance.tests.orchestrator.test_lifecycle import FAIL, LINEAR

RT_BRANCH = f"rt{uuid.uuid4().hex[:8]}"
RT_VALUES = {"label": "recovered", "number": 7, "scale": 0.25, "enabled": True, "extra": {"x": [1]}}


ROUNDTRIP = Spec(
    "roundtrip",
    "from-deployment",
    "roundtrip_flow",
    params=RT_VALUES,
    recover=True,
    top_level={"branch": RT_BRANCH, "config_value": [("cfg", {"project": "mfx_rt_override", "batch_size": 32})]},
)
@pytest.mark.capability("from-deployment")
@pytest.mark.mfx_run(ROUNDTRIP)
def test_from_deployment_round_trip(h: Harness) -> None:
    handle = h.finish(ROUNDTRIP)
    recovered = handle.recovered
    assert recovered.name == handle.deployed.name, pitfall("O23", f"recovered name {recovered.name!r} != {handle.deployed.name!r}")
    assert recovered.flow_name == "MfxRoundtripFlow", pitfall("O23", f"recovered flow_name {recovered.flow_name!r}", fix="store flow_name in the deployment record")
    run = handle.run
    values = task_data(run, "start").values
    assert values == list(RT_VALUES.values()), pitfall("O23,O9", f"recovered deployment ran with {values}", fix="persist each parameter's type so the fake flow file rebuilds it")
    end = task_data(run, "end")
    assert end.branch == f"test.{RT_BRANCH}", pitfall("O23,O13", f"recovered run computed branch {end.branch!r}, expected 'test.{RT_BRANCH}'")
    assert end.project == "mfx_rt_override" and end.batch_size == 32, pitfall(
        "O23,O11", f"the config did not reach the recovered deployment's tasks (project={end.project!r}, batch_size={end.batch_size!r})", fix="store the config values in the deployment"
    )


@pytest.mark.capability("get-triggered-run")
@pytest.mark.mfx_run(LINEAR)
def test_get_triggered_run(h: Harness) -> None:
    from metaflow.runner.deployer import DeployedFlow

    # The most direct path: a deployment handle from create() (from_deployment is another capability).
    handle = h.finish(LINEAR)
    identifier, run_id = deployment_identifier(handle.deployed), handle.run.id
    try:
        again = DeployedFlow.get_triggered_run(identifier, run_id, impl=h.engine.config.deployer_method)
    except Exception as exc:
        raise AssertionError(pitfall("O23", f"get_triggered_run({identifier!r}, {run_id!r}) failed: {type(exc).__name__}: {exc}", fix="override get_triggered_run as a classmethod")) from None
    assert again.pathspec == handle.triggered.pathspec, pitfall("O23", f"pathspec {again.pathspec!r}, expected {handle.triggered.pathspec!r}")
    assert again.run is not None and again.run.id == run_id, pitfall("O23", f"get_triggered_run(...).run is {again.run!r}, expected run {run_id}")
    status = again.status
    assert status is not None and str(status).upper() == "SUCCEEDED", pitfall("O22,O23", f"recovered TriggeredRun.status is {status!r}")


def _resume(h: Harness, spec: Spec, test: str, **kwargs: object) -> tuple:
    """(origin run, resumed run) of ``spec``'s finished run, resumed through its DeployedFlow."""
    handle = h.finish(spec)
    origin = handle.run
    try:
        resumed = handle.deployed.resume(origin_run_id=origin.id, **kwargs)
    except Exception as exc:
        raise AssertionError(
            pitfall("", f"DeployedFlow.resume(origin_run_id={origin.id!r}, {kwargs}) failed: {type(exc).__name__}: {exc}", fix="clone the origin's successful tasks (step --clone-only) and start the rest as a new run")
        ) from None
    assert getattr(resumed, "pathspec", None) and "/" in resumed.pathspec, pitfall("O2", f"resume() returned no usable pathspec: {getattr(resumed, 'pathspec', None)!r}")
    outcome = h.wait(resumed, test=test, flow=spec.flow)
    run = outcome.run
    assert run.id != origin.id and run.id == resumed.pathspec.split("/")[1], pitfall("O2", f"resumed run {run.pathspec} vs pathspec {resumed.pathspec} (origin {origin.id})")
    assert outcome.status == "SUCCEEDED" or str(resumed.status).upper() == "SUCCEEDED", pitfall("O22", f"resumed run status {resumed.status!r}")
    return origin, run


@pytest.mark.capability("resume")
@pytest.mark.mfx_run(FAIL)
def test_resume_reruns_failed_part(h: Harness) -> None:
    origin, run = _resume(h, FAIL, "resume-failed-step")
    assert not origin.successful
    assert task_data(run, "boom").resumed_from == origin.id, pitfall("", "the failed step did not run again with current.origin_run_id set", fix="pass --clone-run-id <origin> to the tasks that run")
    assert task_data(run, "start").ran_in == origin.id, pitfall("", "the successful start step ran again instead of being cloned", fix="run successful origin tasks with `step --clone-only <origin task>`")
    assert task_data(run, "end").done is True


RESUME_FOREACH = Spec("resume_foreach", "resume", "resume_foreach_flow", params={"mode": "fail"}, expect_success=False)
@pytest.mark.capability("resume")
@pytest.mark.mfx_run(RESUME_FOREACH)
def test_resume_of_a_foreach_reruns_only_the_failed_split(h: Harness) -> None:
    origin, run = _resume(h, RESUME_FOREACH, "resume-foreach")
    assert not origin.successful
    ran_in = task_data(run, "join").body_ran_in
    assert ran_in == [origin.id, run.id, origin.id], pitfall(
        "O18", f"foreach splits ran in {ran_in}; expected only split 1 to run again in {run.id}", fix="clone each successful split by its position; re-run the failed one"
    )
    assert task_data(run, "start").items == [0, 1, 2] and task_data(run, "end").origin == origin.id


# A successful foreach run, resumed twice (with and without step_to_rerun).
RESUME_OK = Spec("resume_ok", "resume", "resume_foreach_flow", params={"mode": "ok"})
@pytest.mark.capability("resume")
@pytest.mark.mfx_run(RESUME_OK)
def test_resume_step_to_rerun_reruns_it_and_what_follows(h: Harness) -> None:
    origin, run = _resume(h, RESUME_OK, "resume-step-to-rerun", step_to_rerun="body")
    assert task_data(run, "start").ran_in == origin.id, pitfall("", "start (before step_to_rerun) was not cloned")
    assert task_data(run, "join").body_ran_in == [run.id] * 3, pitfall("", f"step_to_rerun='body' did not re-run every split: {task_data(run, 'join').body_ran_in}")
    assert task_data(run, "end").ran_in == run.id, pitfall("", "a step after step_to_rerun was cloned instead of re-run")


@pytest.mark.capability("resume")
@pytest.mark.mfx_run(RESUME_OK)
def test_resume_of_a_successful_run_clones_it(h: Harness) -> None:
    origin, run = _resume(h, RESUME_OK, "resume-successful")
    assert task_data(run, "end").ran_in == origin.id, pitfall("", "resuming a successful run re-ran its end step instead of cloning it")
    assert task_data(run, "join").body_ran_in == [origin.id] * 3
    assert [s.id for s in run] == [s.id for s in origin], pitfall("O18", f"resumed run has steps {[s.id for s in run]}, origin {[s.id for s in origin]}")
