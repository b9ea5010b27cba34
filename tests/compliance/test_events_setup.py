"""The trigger-events tests: @trigger_on_finish is judged without publish-event, and an extension without
that command gets a message that says what the suite expected (seen on metaflow-flyte, whose events are
LaunchPlan stubs and whose CLI has no publish-event: all three tests failed on the missing command); the two
@trigger tests are then "not run" with that reason."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from _pytest.outcomes import Skipped
from mfx.compliance.expect import NOT_RUN
from mfx.compliance.harness import Harness
from mfx.compliance.tests.orchestrator import test_events as events

# A flow file whose CLI knows no publish-event: it answers like click does (exit 2, "No such command").
NO_PUBLISH = textwrap.dedent(
    """
    import sys
    if "publish-event" in sys.argv:
        sys.stderr.write("Usage: flow.py toy [OPTIONS] COMMAND [ARGS]...\\n\\nError: No such command 'publish-event'.\\n")
        sys.exit(2)
    """
)


class StandIn:
    """What the events tests use of a Harness: create/trigger record their calls; shared is the real one."""

    shared = Harness.shared

    def __init__(self, flow_file: Path) -> None:
        self.cache: dict = {}
        self.calls: list = []
        self.impl = "toy"
        self._flow_file = flow_file

    def flow(self, name: str) -> str:
        return str(self._flow_file)

    def create(self, flow: str, tags: list) -> SimpleNamespace:
        self.calls.append(("create", flow))
        return SimpleNamespace(name=f"{flow}-deployment", flow_name=flow)

    def trigger(self, deployed: SimpleNamespace) -> tuple:
        self.calls.append(("trigger", deployed.flow_name))
        return SimpleNamespace(pathspec="MfxUpstreamFlow/toy-1"), 0.1


def test_on_finish_setup_never_publishes_and_a_missing_publish_event_says_what_the_suite_expected(tmp_path: Path) -> None:
    flow = tmp_path / "flow.py"
    flow.write_text(NO_PUBLISH, encoding="utf-8")
    h = StandIn(flow)
    setup = h.shared(events.SHARED, lambda: events._setup(h, "tag"))  # what test_trigger_on_finish_starts_downstream uses
    assert setup["upstream"].pathspec == "MfxUpstreamFlow/toy-1" and setup["finish"].name == "finish_flow-deployment"
    assert ("trigger", "upstream_flow") in h.calls and not [c for c in h.calls if c[0] == "publish"]
    # the @trigger tests publish (a real subprocess of the toy CLI) and are not run, the suite's expectation named
    with pytest.raises(Skipped) as first:
        events._event_run(events._published_runs(h, "tag"), "event")
    message = str(first.value.msg)
    assert message.startswith(NOT_RUN) and "no `toy publish-event` command" in message and "publish-event NAME --payload JSON" in message
    # the outcome is kept for the other @trigger test; the shared setup is not repeated
    creates = len([c for c in h.calls if c[0] == "create"])
    with pytest.raises(Skipped):
        events._event_run(events._published_runs(h, "tag"), "plain")
    assert len([c for c in h.calls if c[0] == "create"]) == creates == 4


def test_a_publish_event_that_fails_otherwise_keeps_its_output(tmp_path: Path) -> None:
    flow = tmp_path / "flow.py"
    flow.write_text("import sys\nsys.stderr.write('engine refused the event: boom\\n')\nsys.exit(1)\n", encoding="utf-8")
    with pytest.raises(AssertionError) as failed:
        events.publish(StandIn(flow), "event_flow", events.EVENT, {"a": 1})
    assert "exited 1" in str(failed.value) and "engine refused the event: boom" in str(failed.value)
