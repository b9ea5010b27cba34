"""Liveness: a run that nobody executes is reported within 30 s of trigger, never left waiting silently."""

from __future__ import annotations

import time
import uuid

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, cli_output

REPORT_WITHIN = 30.0  # seconds after trigger() returned
STILL_PENDING_AFTER = 10.0  # the status is checked again this long after the report


def _report(deployed: object, triggered: object) -> str:
    """Everything the user was told: the trigger CLI's output and the run's pending hint, if any."""
    hint = getattr(triggered, "pending_reason", None) or ""
    return f"{cli_output(getattr(deployed, 'deployer', deployed))}\n{hint}"


@pytest.mark.capability("no-worker")
def test_run_nobody_executes_is_reported_with_the_fix(h: Harness, mfx_tag: str) -> None:
    overrides = h.engine.config.no_worker_env
    if not overrides:
        pytest.fail(
            "[tool.mfx.compliance] no_worker_env is not set: give the environment overrides under which no worker executes "
            'runs, e.g. { METAFLOW_MY_SCHEDULER_TASK_QUEUE = "mfx-nobody-{unique}" }',
            pytrace=False,
        )
    token = uuid.uuid4().hex[:10]
    env = {key: value.replace("{unique}", token) for key, value in overrides.items()}
    deployed = h.create("linear_flow", tags=[mfx_tag], env=env)
    triggered, _ = h.trigger(deployed)
    returned = time.monotonic()
    try:
        statuses = []
        while True:
            status = triggered.status
            statuses.append(status)
            told = _report(deployed, triggered)
            if "worker" in told.lower() or time.monotonic() - returned > REPORT_WITHIN:
                break
            time.sleep(2)
        waited = time.monotonic() - returned
        assert "worker" in told.lower(), pitfall(
            "O24",
            f"nothing said within {waited:.0f} s of trigger that no worker executes the run (statuses {statuses}); output:\n{told[-1500:]}",
            fix="after start_run, ask the engine whether anything takes the run's work (e.g. task-queue pollers) and print the command that starts a worker",
        )
        assert "start" in told.lower(), pitfall("O24", f"the report does not say how to start a worker:\n{told[-1500:]}", fix="name the command that starts the worker")
        assert "Traceback (most recent call last)" not in told, pitfall("O24", f"the report is a traceback:\n{told[-1500:]}")
        time.sleep(STILL_PENDING_AFTER)
        later = triggered.status
        assert status == "PENDING" and later == "PENDING", pitfall(
            "O22", f"a run no worker executes reported {status!r}, then {later!r} (statuses {statuses})", fix="report PENDING while no task of the run has started"
        )
        assert triggered.run is None, pitfall("O22", f"run {triggered.pathspec} exists although no worker could execute it")
    finally:
        terminate = getattr(triggered, "terminate", None)
        if callable(terminate):
            try:
                terminate()
            except Exception:  # best effort: the run must not outlive the session on the engine
                pass
