"""How the trigger-events tests publish events, run against Metaflow's real CLI (no engine).

Seen on metaflow-dagster 0.3.7 and metaflow-prefect 0.3.7: neither has the ``publish-event`` command the
suite publishes events through (their @trigger is wired to a Dagster sensor / Prefect automation), so the
shared setup failed and all three tests, @trigger_on_finish included (it publishes nothing), were failed
with '[no known pitfall] `<plugin> publish-event` exited 2'. A missing command is "not run" with the reason
for the two event tests only; any other publishing failure still fails the test that needs that event."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from _pytest.outcomes import Skipped
from mfx.compliance.expect import NOT_RUN
from mfx.compliance.tests.orchestrator import test_events as events

FLOW = '''
from metaflow import FlowSpec, step


class MfxPublishProbeFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxPublishProbeFlow()
'''


@pytest.fixture
def h(tmp_path, monkeypatch):
    monkeypatch.setenv("METAFLOW_USER", "mfx-compliance")  # as the suite's session sets it
    flow = tmp_path / "probe_flow.py"
    flow.write_text(FLOW)
    # a real Metaflow CLI group without a publish-event command (Metaflow's own argo-workflows group)
    return SimpleNamespace(impl="argo-workflows", flow=lambda name: str(flow))


def test_an_extension_without_publish_event_is_not_run_for_event_tests_only(h) -> None:
    with pytest.raises(events.NoPublishCommand) as missing:
        events.publish(h, "probe_flow", events.EVENT, {"x": 1})
    assert "argo-workflows publish-event" in str(missing.value)
    setup = {"event": events._published(h, None, "probe_flow", events.EVENT, {"x": 1}), "upstream": object()}
    assert isinstance(setup["event"], events.NoPublishCommand), "kept for the test that needs it, not raised by the setup"
    with pytest.raises(Skipped) as skipped:
        events._event_run(setup, "event")
    assert str(skipped.value.msg).startswith(NOT_RUN) and "could not be checked" in str(skipped.value.msg)


def test_another_publishing_failure_still_fails_the_test_that_needs_the_event() -> None:
    failure = AssertionError("[no known pitfall] `x publish-event e` exited 1: engine refused")
    with pytest.raises(AssertionError, match="engine refused"):
        events._event_run({"event": failure}, "event")
    run = object()
    assert events._event_run({"event": run}, "event") is run
