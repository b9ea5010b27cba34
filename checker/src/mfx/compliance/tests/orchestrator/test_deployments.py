"""Recovering deployments and runs: from_deployment (dotted @project names, configs, typed
parameters), get_triggered_run, and resume."""

from __future__ import annotations

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, task_data
from mfx.compliance.tests.orchestrator.specs import RT_BRANCH, RT_VALUES, SPECS


@pytest.mark.capability("from-deployment")
def test_from_deployment_round_trip(h: Harness) -> None:
    handle = h.finish(SPECS["roundtrip"])
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
def test_get_triggered_run(h: Harness) -> None:
    from metaflow.runner.deployer import DeployedFlow

    # The most direct path: a deployment handle from create() (from_deployment is another capability).
    handle = h.finish(SPECS["linear"])
    identifier, run_id = handle.deployed.name, handle.run.id
    try:
        again = DeployedFlow.get_triggered_run(identifier, run_id, impl=h.engine.config.deployer_method)
    except Exception as exc:
        raise AssertionError(pitfall("O23", f"get_triggered_run({identifier!r}, {run_id!r}) failed: {type(exc).__name__}: {exc}", fix="override get_triggered_run as a classmethod")) from None
    assert again.pathspec == handle.triggered.pathspec, pitfall("O23", f"pathspec {again.pathspec!r}, expected {handle.triggered.pathspec!r}")
    assert again.run is not None and again.run.id == run_id, pitfall("O23", f"get_triggered_run(...).run is {again.run!r}, expected run {run_id}")
    status = again.status
    assert status is not None and str(status).upper() == "SUCCEEDED", pitfall("O22,O23", f"recovered TriggeredRun.status is {status!r}")


@pytest.mark.capability("resume")
def test_resume_reruns_failed_part(h: Harness, mfx_tag: str) -> None:
    deployed = h.create("fail_flow", tags=[mfx_tag])
    triggered, _ = h.trigger(deployed)
    failed = h.wait(triggered, expect_success=False, test="resume-origin", flow="fail_flow")
    assert not failed.run.successful
    resumed = deployed.resume(origin_run_id=failed.run.id)
    outcome = h.wait(resumed, test="resume", flow="fail_flow")
    assert task_data(outcome.run, "boom").resumed_from == failed.run.id
    assert outcome.run.id != failed.run.id
