"""Event triggers: @trigger (events published through the extension's CLI) and @trigger_on_finish.

One setup (shared by the tests) deploys the subscribers first, then runs the upstream flow; the
first @trigger test publishes both events, so the four runs overlap on the engine. The
@trigger_on_finish test does not depend on publish-event (an extension without that command is
judged on @trigger_on_finish alone). The event is published with the
extension's ``publish-event`` command: ``python <flow.py> <plugin> publish-event NAME --payload
JSON``, which prints the pathspec of every run it started.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

import pytest

from mfx.compliance.expect import not_run, pitfall
from mfx.compliance.harness import Harness, task_data

PUBLISH_TIMEOUT = 90.0
EVENT = "mfx_compliance_event"
PLAIN_EVENT = "mfx_compliance_plain_event"
EVENT_PAYLOAD = {"field_a": "from the event, with: punctuation/!", "count": 7, "alpha": "not-mapped", "gamma": "not-mapped", "conf": {"k": [1, 2]}}
PLAIN_PAYLOAD = {"label": "plain-label", "size": 12, "conf": {"deep": {"x": None}}, "unrelated": "ignored"}


def publish(h: Harness, flow: str, name: str, payload: Dict[str, Any]) -> List[str]:
    """Publish through the extension's CLI; the pathspecs of the runs it started."""
    cmd = [sys.executable, h.flow(flow), "--quiet", "--no-pylint", h.impl, "publish-event", name, "--payload", json.dumps(payload)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PUBLISH_TIMEOUT, env=dict(os.environ))
    except subprocess.TimeoutExpired:
        raise AssertionError(pitfall("", f"`{h.impl} publish-event {name}` did not finish within {PUBLISH_TIMEOUT:.0f} s", fix="bound every engine call")) from None
    if proc.returncode != 0 and re.search(r"No such command ['\"]?publish-event", proc.stderr):
        raise NoPublishCommand(
            f"the extension has no `{h.impl} publish-event` command, through which the suite publishes an event "
            "(`python <flow.py> <plugin> publish-event NAME --payload JSON`, printing the pathspecs of the runs it started): "
            "@trigger(event=...) could not be checked"
        )
    assert proc.returncode == 0, pitfall(
        "", f"`{h.impl} publish-event {name}` exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}", fix="add the publish-event command (orchestrator/events.py)"
    )
    return [line.strip() for line in proc.stdout.splitlines() if line.strip().count("/") == 1 and " " not in line.strip()]


class NoPublishCommand(Exception):
    """The extension has no ``publish-event`` command: the suite cannot publish an event (not run, not failed)."""


def _published(h: Harness, deployed: Any, flow: str, name: str, payload: Dict[str, Any]) -> Any:
    """The run an event started, or why there is none (kept for the test that needs this event only:
    the @trigger_on_finish test does not publish anything)."""
    try:
        return _triggered_run_of(h, deployed, publish(h, flow, name, payload))
    except (AssertionError, NoPublishCommand) as exc:
        return exc


def _event_run(setup: Dict[str, Any], key: str) -> Any:
    found = setup[key]
    if isinstance(found, NoPublishCommand):
        not_run(str(found))
    if isinstance(found, BaseException):
        raise found
    return found


def _triggered_run_of(h: Harness, deployed: Any, pathspecs: List[str]) -> Any:
    from metaflow.runner.deployer import DeployedFlow

    ours = [p for p in pathspecs if p.split("/")[0] == deployed.flow_name]
    assert len(ours) == 1, pitfall("", f"publishing started {pathspecs}, expected exactly one run of {deployed.flow_name}", fix="start one run per subscribed deployment")
    return DeployedFlow.get_triggered_run(deployed.name, ours[0].split("/")[1], impl=h.engine.config.deployer_method)


def _find_downstream(flow_name: str, upstream_pathspec: str, timeout: float) -> Optional[Any]:
    """The run of ``flow_name`` whose start task records ``upstream_pathspec`` as its trigger."""
    from metaflow import Flow, namespace
    from metaflow.exception import MetaflowNotFound

    namespace(None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for run in Flow(flow_name).runs():
                try:
                    meta = run["start"].task.metadata_dict.get("execution-triggers")
                except (KeyError, MetaflowNotFound):
                    continue
                if meta and any(str(e.get("id", "")).startswith(upstream_pathspec + "/") for e in json.loads(meta)):
                    return run
        except MetaflowNotFound:
            pass
        time.sleep(3)
    return None


# Not prefetched with the other runs: the subscribers must be deployed before the upstream run
# ends, and the session prefetch runs under the first test's time limit (a loaded machine).
SHARED = "trigger-events"


def _setup(h: Harness, tag: str) -> Dict[str, Any]:
    started = time.monotonic()
    finish = h.create("finish_flow", tags=[tag])
    event = h.create("event_flow", tags=[tag])
    plain = h.create("plain_event_flow", tags=[tag])
    upstream = h.create("upstream_flow", tags=[tag])
    up_triggered, _ = h.trigger(upstream)
    return {"finish": finish, "event_deployed": event, "plain_deployed": plain, "upstream": up_triggered, "started": started}


def _published_runs(h: Harness, tag: str) -> Dict[str, Any]:
    """The runs the two published events started, or why there are none (both published at once, so the
    runs overlap). Only the @trigger tests publish: @trigger_on_finish is judged without publish-event."""
    setup = h.shared(SHARED, lambda: _setup(h, tag))

    def make() -> Dict[str, Any]:
        return {
            "event": _published(h, setup["event_deployed"], "event_flow", EVENT, EVENT_PAYLOAD),
            "plain": _published(h, setup["plain_deployed"], "plain_event_flow", PLAIN_EVENT, PLAIN_PAYLOAD),
        }

    return h.shared(SHARED + ":published", make)


@pytest.mark.capability("trigger-events")
def test_trigger_event_maps_payload_to_parameters(h: Harness, mfx_tag: str) -> None:
    run = h.wait(_event_run(_published_runs(h, mfx_tag), "event"), test="trigger-event", flow="event_flow").run
    start = task_data(run, "start")
    expected = {"alpha": EVENT_PAYLOAD["field_a"], "count": 7, "beta": "beta-default", "conf": {"k": [1, 2]}, "gamma": "gamma-default"}
    assert start.seen == expected, pitfall(
        "O9", f"parameters of the event-triggered run are {start.seen}, expected {expected}", fix="map payload[field] to each parameter of the @trigger mapping; a missing field keeps the default"
    )
    assert start.trigger_names == [EVENT] and start.trigger_types == ["event"], pitfall(
        "", f"current.trigger in the start step: names {start.trigger_names}, types {start.trigger_types}", fix="expose the event as current.trigger in every task"
    )
    assert task_data(run, "end").end_trigger_name == EVENT, pitfall("", "current.trigger is missing in the end step", fix="pass the trigger to every task, not only start")
    assert run.trigger is not None and run.trigger.event.name == EVENT, pitfall("", f"Run.trigger is {run.trigger!r}", fix="record execution-triggers metadata on the start task")


@pytest.mark.capability("trigger-events")
def test_trigger_plain_event_fills_parameters_by_name(h: Harness, mfx_tag: str) -> None:
    run = h.wait(_event_run(_published_runs(h, mfx_tag), "plain"), test="trigger-plain-event", flow="plain_event_flow").run
    start = task_data(run, "start")
    expected = {"label": "plain-label", "size": 12, "conf": {"deep": {"x": None}}, "kept": "kept-default"}
    assert start.seen == expected, pitfall(
        "O9", f"parameters of the plain-event run are {start.seen}, expected {expected}", fix="a plain @trigger(event=name) maps every parameter to the payload field of its name"
    )
    assert start.trigger_name == PLAIN_EVENT, pitfall("", f"current.trigger.event.name is {start.trigger_name!r}")


@pytest.mark.capability("trigger-events")
def test_trigger_on_finish_starts_downstream(h: Harness, mfx_tag: str) -> None:
    setup = h.shared(SHARED, lambda: _setup(h, mfx_tag))
    upstream = h.wait(setup["upstream"], test="trigger-on-finish-upstream", flow="upstream_flow").run
    downstream = _find_downstream("MfxFinishTriggeredFlow", upstream.pathspec, timeout=min(h.engine.run_timeout, 240.0))
    assert downstream is not None, pitfall(
        "", f"no run of MfxFinishTriggeredFlow was started by the successful run {upstream.pathspec}", fix="publish metaflow.<flow>.end when a run succeeds and start the flows with @trigger_on_finish on it"
    )
    from metaflow.runner.deployer import DeployedFlow

    triggered = DeployedFlow.get_triggered_run(setup["finish"].name, downstream.id, impl=h.engine.config.deployer_method)
    run = h.wait(triggered, test="trigger-on-finish", flow="finish_flow").run
    start = task_data(run, "start")
    assert start.trigger_run == upstream.pathspec, pitfall("", f"current.trigger.run is {start.trigger_run!r}, expected {upstream.pathspec}")
    assert start.trigger_event and start.trigger_event[0] == "metaflow.MfxUpstreamFlow.end" and start.trigger_event[1] == "run", pitfall(
        "", f"current.trigger.event is {start.trigger_event!r}", fix="name the event metaflow.<project_flow_name>.end, type 'run'"
    )
    assert start.trigger_event[2].startswith(upstream.pathspec + "/"), pitfall("", f"event id {start.trigger_event[2]!r} is not the upstream end task's pathspec")
    assert start.upstream_data == "upstream" and start.by_name == upstream.pathspec, pitfall("", f"current.trigger.run.data / trigger['MfxUpstreamFlow']: {start.upstream_data!r}, {start.by_name!r}")
    assert task_data(run, "end").end_trigger_run == upstream.pathspec, pitfall("", "current.trigger is missing in the end step")
    assert run.trigger is not None and run.trigger.run is not None and run.trigger.run.pathspec == upstream.pathspec, pitfall("", f"Run.trigger of the downstream run is {run.trigger!r}")
