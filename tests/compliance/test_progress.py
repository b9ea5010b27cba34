"""Live progress (mfx.compliance.progress): rendering on a terminal and in logs, fed by the real
harness objects (Harness handles, BackendRuns states) that own the runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import List

import pytest
from mfx.compliance import progress as live
from mfx.compliance.config import ComplianceConfig
from mfx.compliance.harness import Handle, Harness, Spec
from mfx.compliance.plugin import Engine
from mfx.compliance.progress import Progress, RunRow

pytest_plugins = ["pytester"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Out:
    """A fake terminal / log stream: what was written, and the screen line a TTY would show."""

    def __init__(self) -> None:
        self.chunks: List[str] = []

    def __call__(self, text: str) -> None:
        self.chunks.append(text)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def screen_line(self) -> str:
        """The last line as a terminal shows it (\\r returns to column 0, ESC[K clears the rest)."""
        line = self.text.split("\n")[-1]
        return line.split("\r")[-1].replace("\x1b[K", "")


def _engine(tmp_path: Path, progress: Progress, kind: str = "orchestrator") -> Engine:
    cfg = ComplianceConfig(project=tmp_path, kind=kind, plugin="fake", capabilities="x:Y")
    return Engine(cfg, frozenset(), {}, tmp_path, 60.0, [], progress)


class FakeTriggered:
    """Stands in for an engine's TriggeredRun only where no engine is involved (status polling)."""

    def __init__(self, statuses: List[str]) -> None:
        self.statuses = list(statuses)
        self.pathspec = "F/r-1"

    @property
    def status(self) -> str:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    run = None


def test_tty_one_line_updated_in_place_and_cleared(tmp_path: Path) -> None:
    clock, out = Clock(), Out()
    begun = []
    p = Progress(out, True, clock=clock, width=200, begin_line=lambda: begun.append(1))
    h = Harness(_engine(tmp_path, p))
    spec_a = Spec("long", "retry", "linear_flow")
    h.planned = {"long": clock.now, "short": clock.now}
    h.handles["long"] = Handle(spec_a, triggered=object(), triggered_at=clock.now, launched_at=clock.now, last_status="RUNNING")
    p.test = "test_retry"
    with p.waiting_for("long"):
        clock.now += 75
        p.tick()
        line = out.screen_line()
        assert line.startswith("mfx 1m15s | test_retry waits for long")
        assert "long running 1m15s" in line and "short queued 1m15s" in line
        assert "\n" not in out.text, "a TTY gets one line rewritten in place, never new lines"
        writes = len(out.chunks)
        clock.now += 0.5
        p.tick()
        assert len(out.chunks) == writes, "at most one redraw a second"
        h.handles["long"].outcome = type("O", (), {"run": None})()
        h.handles["long"].finished_after, h.handles["long"].succeeded = 80.0, True
        clock.now += 2
        p.tick()
        assert "1 finished" in out.screen_line() and "long running" not in out.screen_line()
    assert out.screen_line() == "", "the status line is cleared when the wait ends"
    assert begun == [1], "pytest's own line is ended once, before the first status line"


def test_lines_mode_one_line_per_change_rate_limited_and_heartbeat(tmp_path: Path) -> None:
    clock, out = Clock(), Out()
    p = Progress(out, False, clock=clock, interval=5.0, heartbeat=60.0)
    rows = {"a": RunRow("a", "queued", clock.now)}
    p.add_source(lambda: list(rows.values()))
    p.test = "test_x"
    with p.waiting_for("a"):
        first = out.text.splitlines()
        assert first == ["mfx progress 0s: a queued 0s", "mfx progress 0s: test_x waits for a"]
        rows["a"] = RunRow("a", "running", clock.now)
        clock.now += 1
        p.tick()
        assert len(out.text.splitlines()) == 2, "a change within the interval waits"
        rows["b"] = RunRow("b", "queued", clock.now)
        clock.now += 5
        p.tick()
        new = out.text.splitlines()[2:]
        assert new == ["mfx progress 6s: a running 6s", "mfx progress 6s: b queued 5s"], "both changes in one batch"
        clock.now += 30
        p.tick()
        assert len(out.text.splitlines()) == 4, "nothing changed, no heartbeat yet"
        clock.now += 31
        p.tick()
        last = out.text.splitlines()[-1]
        assert last.startswith("mfx progress 1m07s: still waiting: test_x waits for a; in progress: a running 1m07s, b queued 1m06s")
        rows["a"] = RunRow("a", "failed", clock.now, ended_after=70.0)
        clock.now += 10
        p.tick()
        assert out.text.splitlines()[-1] == "mfx progress 1m17s: a failed (1m10s)"
    assert "\r" not in out.text and "\x1b" not in out.text, "no terminal control characters in logs"


def test_only_the_main_thread_writes(tmp_path: Path) -> None:
    out = Out()
    p = Progress(out, False)
    p.add_source(lambda: [RunRow("a", "running", 0.0)])

    def background() -> None:
        with p.waiting_for("a"):
            p.tick(force=True)

    t = threading.Thread(target=background)
    t.start()
    t.join()
    assert out.text == "" and p.waiting is None


def test_a_broken_source_never_breaks_the_wait() -> None:
    out = Out()
    p = Progress(out, False)
    p.add_source(lambda: 1 / 0)
    p.add_source(lambda: [RunRow("ok", "running", 0.0)])
    with p.waiting_for("ok"):
        pass
    assert "ok running" in out.text


def test_harness_wait_feeds_progress_from_the_handle(tmp_path: Path) -> None:
    """Harness.finish/wait: the engine's polled status moves the handle from triggered to running."""
    out = Out()
    p = Progress(out, False, interval=0.0)
    h = Harness(_engine(tmp_path, p))
    spec = Spec("k", "retry", "linear_flow", wait_timeout=1.5)
    triggered = FakeTriggered(["PENDING", "RUNNING"])
    h.handles["k"] = Handle(spec, triggered=triggered, triggered_at=live.time.monotonic(), launched_at=live.time.monotonic())
    h._waiting = h.handles["k"]
    states = []
    p.add_source(lambda: states.append(h.handles["k"].row(0).state) or [])
    with pytest.raises(AssertionError):
        h.wait(triggered, timeout=1.5)  # never finishes: diagnosed as a failure, after polling
    assert "triggered" in states and "running" in states
    assert "k triggered" in out.text and "k running" in out.text and "waits for k" in out.text


def test_mode_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MFX_PROGRESS", raising=False)
    assert live.mode(True) is True and live.mode(False) is False
    monkeypatch.setenv("MFX_PROGRESS", "off")
    assert live.mode(True) is None
    monkeypatch.setenv("MFX_PROGRESS", "lines")
    assert live.mode(True) is False


def test_elapsed_format() -> None:
    assert [live.elapsed(s) for s in (0, 59.9, 60, 3599, 3600, 7380)] == ["0s", "59s", "1m00s", "59m59s", "1h00m", "2h03m"]


WIRED = '''
import time
import pytest
from mfx.compliance.progress import RunRow, waiting_for

@pytest.mark.capability("branch")
def test_waits_for_a_run(mfx_engine):
    p = mfx_engine.progress
    assert p is not None
    t0 = time.monotonic()
    p.add_source(lambda: [RunRow("slow_run", "running" if time.monotonic() - t0 < 0.6 else "finished", t0, ended_after=None if time.monotonic() - t0 < 0.6 else 0.6)])
    print("captured test output")
    with waiting_for(p, "slow_run"):
        while time.monotonic() - t0 < 1.3:
            p.tick()
            time.sleep(0.1)
'''


@pytest.mark.parametrize("mode", ["lines", "tty"])
def test_plugin_writes_progress_past_output_capture(pytester: pytest.Pytester, tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's writer reaches the terminal while pytest captures the test's own output."""
    from compliance.test_plugin import make_project

    monkeypatch.setenv("MFX_PROGRESS", mode)
    project = make_project(tmp_path / "ext")
    pytester.makepyfile(test_wired=WIRED)
    result = pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", timeout=120)
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "captured test output" not in out, "the test's own output stays captured"
    if mode == "lines":
        result.stdout.fnmatch_lines(["mfx progress *: slow_run running *", "mfx progress *: test_waits_for_a_run waits for slow_run"])
        assert "\r" not in out
    else:
        # (pytester splits the captured output at every \r: each redraw is a "line" here)
        drawn = [line for line in result.outlines if line.startswith("mfx ")]
        assert any("test_waits_for_a_run waits for slow_run | slow_run running" in line for line in drawn), out
        assert any("1 finished" in line for line in drawn) and "\x1b[K" in out, out
        assert not any(line.startswith("mfx progress") for line in result.outlines), "a terminal gets no log lines"


def test_prefetch_stops_at_its_budget_and_tests_launch_the_rest(tmp_path: Path) -> None:
    """The prefetch runs in the first test's setup: with a slow create (metaflow-prefect took ~35 s a
    deployment under load) launching every run there timed that one setup out, and the timeout was
    reported for all tests. It stops at its budget; finish() launches what is left, test by test."""
    h = Harness(_engine(tmp_path, None))  # type: ignore[arg-type]
    launched: List[str] = []
    slow = 0.2

    def launch(spec: Spec) -> Handle:
        import time

        time.sleep(slow)  # a create + trigger that takes its time
        launched.append(spec.key)
        handle = Handle(spec, error=RuntimeError("engine said no"))
        h.handles[spec.key] = handle
        return handle

    h.launch = launch  # type: ignore[method-assign]
    specs = [Spec(f"run{i}", "linear", "linear_flow") for i in range(6)]
    left = h.prefetch(specs, budget=slow * 2.5)
    assert launched == ["run0", "run1", "run2"] and left == ["run3", "run4", "run5"]
    assert set(h.planned) == {s.key for s in specs}, "the rest stays planned (shown queued) for its test"
    assert h.prefetch(specs[:2], budget=60) == [] and launched[3:] == ["run0", "run1"], "a generous budget launches all"
