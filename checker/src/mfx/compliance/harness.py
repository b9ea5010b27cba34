"""Deploy, trigger and wait through the public Metaflow Deployer API, with bounded waits.

Only the public API is used: ``Deployer(flow_file, **top_level).<method>(**deploy_args)
.create(tags=...)``, ``.trigger(**params)``, ``TriggeredRun.run/.status``, and the
``DeployedFlow`` classmethods with ``impl=TYPE``. Metaflow is imported inside functions: its
configuration is frozen at import, and the devstack environment is loaded by the session fixture
first. Flow files are resolved from this package, never from the CWD.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .expect import fail, pitfall
from .plugin import Engine

FLOWS = Path(__file__).resolve().parent / "flows"
STATUSES = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
FAILED_STATUSES = {"FAILED", "TIMED_OUT", "ABORTED"}
POLL = 1.0
CREATE_TIMEOUT = 60  # O1: create must answer well within a minute
SUCCEEDED_GRACE = 30.0  # a SUCCEEDED run must be visible and finished this soon after
UNKNOWN_GRACE = 60.0  # a triggered run unknown to both the engine and the client after this is lost


def flow_path(kind: str, name: str) -> str:
    """Absolute path of one of our flows (``flows/<kind>/<name>.py``)."""
    path = FLOWS / kind / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"compliance flow {path} is missing from the mfx package")
    return str(path)


def keep_interrupt() -> None:
    """Make Ctrl-C stop the suite again.

    Metaflow's SubprocessManager (created by every Deployer) replaces the SIGINT handler with one
    that only kills its child processes, so an interrupted suite would keep running (a hang for
    the user). Chain it: kill the children, then raise KeyboardInterrupt.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    current = signal.getsignal(signal.SIGINT)
    if getattr(current, "_mfx_chained", False):
        return

    def handler(signum: int, frame: Any) -> None:
        if callable(current):
            try:
                current(signum, frame)
            except Exception:  # killing children is best effort; the interrupt is what matters
                pass
        raise KeyboardInterrupt

    handler._mfx_chained = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGINT, handler)


def _evict(flow_file: str) -> None:
    """Forget the flow module the click API cached, so each deployment sees its own configs."""
    from metaflow.runner import click_api

    click_api.loaded_modules.pop(flow_file, None)


def _status(triggered: Any) -> Optional[str]:
    """``TriggeredRun.status`` normalised; a missing property is pitfall O22."""
    if not hasattr(type(triggered), "status") and not hasattr(triggered, "status"):
        raise fail("O22", f"{type(triggered).__name__} has no `status`", fix="add a `status` property to the TriggeredRun subclass")
    value = triggered.status
    if value is None:
        return None
    text = str(value).upper()
    if text not in STATUSES:
        raise fail("O22", f"status {value!r} is not in Metaflow's vocabulary {sorted(STATUSES)}", fix="map native states in status.py")
    return text


def task_errors(run: Any, limit: int = 3) -> str:
    """The stderr tails of failed tasks, for failure messages."""
    out: List[str] = []
    try:
        for step in run:
            for task in step:
                if not task.successful:
                    tail = "\n".join((task.stderr or "").strip().splitlines()[-12:])
                    out.append(f"--- {task.pathspec} stderr (tail) ---\n{tail}")
                    if len(out) >= limit:
                        return "\n".join(out)
    except Exception as exc:  # diagnostics must never hide the real failure
        out.append(f"(could not read task logs: {exc})")
    return "\n".join(out) or "(no failed task found in the datastore)"


@dataclass
class Outcome:
    """A finished (or given up on) triggered run."""

    triggered: Any
    run: Any
    status: Optional[str]
    statuses_seen: List[Optional[str]]
    trigger_seconds: float
    run_seconds: float


class Harness:
    """Per-session helper bound to the engine; ``test`` names runs in failure messages and timings."""

    def __init__(self, engine: Engine, kind: str = "orchestrator") -> None:
        self.engine = engine
        self.kind = kind
        self.cache: Dict[str, Any] = {}
        self.handles: Dict[str, Handle] = {}
        self.session_tag = f"mfx-{uuid.uuid4().hex[:8]}"

    @property
    def impl(self) -> str:
        return self.engine.config.plugin

    def flow(self, name: str) -> str:
        return flow_path(self.kind, name)

    def deployer(self, flow: str, env: Optional[Dict[str, str]] = None, **top_level: Any) -> Any:
        """The provider's DeployerImpl; a missing method is pitfalls O3/O4/O30."""
        from metaflow import Deployer

        flow_file = self.flow(flow)
        _evict(flow_file)
        top_level.setdefault("pylint", False)
        d = Deployer(flow_file, show_output=True, env=env, file_read_timeout=CREATE_TIMEOUT, **top_level)
        try:
            return self._impl(d)
        finally:
            keep_interrupt()

    def _impl(self, d: Any) -> Any:
        method = self.engine.config.deployer_method
        if not hasattr(d, method):
            raise fail(
                "O3,O4,O30",
                f"Deployer has no method {method!r}: the provider {self.impl!r} is not registered",
                fix="check DEPLOYER_IMPL_PROVIDERS_DESC / TYPE / CLI group name, and that the wheel has top_level.txt",
            )
        try:
            return getattr(d, method)(**{**self.engine.config.deploy_args})
        except AttributeError as exc:
            raise fail("O6", f"Deployer(...).{method}() raised {exc}", fix="store kwargs in self._deployer_kwargs before super().__init__") from None

    def create(self, flow: str, tags: Iterable[str] = (), env: Optional[Dict[str, str]] = None, **top_level: Any) -> Any:
        """Deploy ``flow``; must answer within :data:`CREATE_TIMEOUT` (pitfall O1)."""
        impl = self.deployer(flow, env=env, **top_level)
        started = time.monotonic()
        try:
            deployed = impl.create(tags=list(tags))
        except Exception as exc:
            elapsed = time.monotonic() - started
            output = cli_output(impl)
            if elapsed >= CREATE_TIMEOUT - 1:
                pid, fix = "O1", "every exit-0 path of create must write the attribute file"
            elif "No such command" in output or "no such option" in output.lower():
                pid, fix = "O3,O4", "register exactly one CLI group named like TYPE"
            else:
                pid, fix = "", "the create CLI exited non-zero: see its output"
            raise fail(pid, f"create() of {flow} failed after {elapsed:.0f} s: {_short(exc)}\nCLI output (tail):\n{output}", fix=fix) from None
        if not getattr(deployed, "name", None):
            raise fail("O1", "create() returned a deployment without a name", fix="write {'name','flow_name','metadata'} to the attribute file")
        return deployed

    def trigger(self, deployed: Any, **params: Any) -> Tuple[Any, float]:
        """Trigger and time the call (pitfall O24 when it takes as long as the run)."""
        started = time.monotonic()
        try:
            triggered = deployed.trigger(**params)
        except Exception as exc:
            raise fail("O7,O8,O2", f"trigger({params}) failed: {_short(exc)}", fix="trigger must accept flow Parameters and write {'name','metadata','pathspec'}") from None
        seconds = time.monotonic() - started
        if not getattr(triggered, "pathspec", None) or "/" not in triggered.pathspec:
            raise fail("O2", f"trigger payload has no usable pathspec: {getattr(triggered, 'pathspec', None)!r}", fix="write pathspec '<Flow>/<run id>'")
        return triggered, seconds

    def wait(self, triggered: Any, *, expect_success: bool = True, timeout: Optional[float] = None, test: str = "", flow: str = "") -> Outcome:
        """Poll status and the Run until finished, failed or timed out; never longer than the run timeout."""
        limit = timeout or self.engine.run_timeout
        started = time.monotonic()
        deadline = started + limit
        seen: List[Optional[str]] = []
        run = None
        status: Optional[str] = None
        succeeded_at: Optional[float] = None
        while time.monotonic() < deadline:
            status = _status(triggered)
            if not seen or seen[-1] != status:
                seen.append(status)
            run = triggered.run
            if run is not None and run.finished:
                break
            if status in FAILED_STATUSES:
                run = triggered.run
                break
            if status is None and run is None and time.monotonic() - started > UNKNOWN_GRACE:
                break  # neither the engine nor the client knows the run: reported below (O2/O21)
            if status == "SUCCEEDED":
                succeeded_at = succeeded_at or time.monotonic()
                if time.monotonic() - succeeded_at > SUCCEEDED_GRACE:
                    if run is None:
                        break  # reported below: the run the payload names does not exist (O2/O21)
                    raise fail("O20,O22", f"status is SUCCEEDED but Run {run.pathspec} never finished", fix="init must register start/end step metadata; status must not report success early")
            time.sleep(POLL)
        elapsed = time.monotonic() - started
        if run is None:
            raise fail(
                "O2,O21",
                f"run {triggered.pathspec} never became visible to the client within {elapsed:.0f} s (statuses seen: {seen})",
                fix="the trigger pathspec must use the run id the tasks use, and tasks must write to the client's datastore/metadata root",
            )
        if status not in FAILED_STATUSES and not run.finished:
            raise fail("O18,O22", f"run {run.pathspec} did not finish within {elapsed:.0f} s (statuses seen: {seen})", fix="see the worker log; a failing run must report FAILED")
        if expect_success and not run.successful:
            raise fail("O18", f"run {run.pathspec} failed (statuses seen: {seen})\n{task_errors(run)}", fix="see the failed task's stderr")
        outcome = Outcome(triggered, run, status, seen, 0.0, elapsed)
        if flow:
            self.engine.timings.append(
                {"flow": flow, "test": test, "status": status, "trigger_seconds": 0.0, "run_seconds": run_duration(run), "observed_seconds": elapsed}
            )
        return outcome

    def run(self, flow: str, *, tags: Iterable[str] = (), params: Optional[Dict[str, Any]] = None, env: Optional[Dict[str, str]] = None, test: str = "", **top_level: Any) -> Outcome:
        """create + trigger + wait for success, the common case."""
        deployed = self.create(flow, tags=tags, env=env, **top_level)
        triggered, trigger_seconds = self.trigger(deployed, **(params or {}))
        outcome = self.wait(triggered, test=test, flow=flow)
        outcome.trigger_seconds = trigger_seconds
        if self.engine.timings:
            self.engine.timings[-1]["trigger_seconds"] = trigger_seconds
        outcome.deployed = deployed  # type: ignore[attr-defined]
        return outcome

    def shared(self, key: str, make: Callable[[], Any]) -> Any:
        """One run shared by several tests (each asserting its own capability); a failure is re-raised for each."""
        if key not in self.cache:
            try:
                self.cache[key] = ("ok", make())
            except Exception as exc:  # re-raised below for every test that shares the run
                self.cache[key] = ("error", exc)
        state, value = self.cache[key]
        if state == "error":
            raise value
        return value

    # -- launched runs: create + trigger early (prefetch), wait when the test asks -------------

    def launch(self, spec: "Spec") -> "Handle":
        """create + trigger ``spec`` once per session; a failure is kept for the test that needs it."""
        if spec.key in self.handles:
            return self.handles[spec.key]
        handle = Handle(spec)
        try:
            handle.deployed = self.create(spec.flow, tags=spec.tags(self.session_tag), env=spec.env, **spec.top_level)
            target = handle.deployed
            if spec.recover:
                target = self.recover(handle.deployed)
                keep_interrupt()
                handle.recovered = target
            handle.triggered, handle.trigger_seconds = self.trigger(target, **spec.params)
            handle.triggered_at = time.monotonic()
        except Exception as exc:
            handle.error = exc
        self.handles[spec.key] = handle
        return handle

    def recover(self, deployed: Any) -> Any:
        """``DeployedFlow.from_deployment(name, impl=TYPE)``, failing with pitfall O23."""
        from metaflow.runner.deployer import DeployedFlow

        try:
            return DeployedFlow.from_deployment(deployed.name, impl=self.engine.config.deployer_method)
        except Exception as exc:  # noqa: B902 - any failure here is the provider's
            keep_interrupt()
            raise fail("O23", f"from_deployment({deployed.name!r}) failed: {_short(exc)}", fix="override from_deployment; persist the real flow name and parameter info") from None

    def finish(self, spec: "Spec", test: str = "") -> "Handle":
        """Launch ``spec`` if nobody did yet, then wait for its end (once; the result is shared)."""
        handle = self.launch(spec)
        if handle.error is None and handle.outcome is None:
            remaining = None
            if spec.wait_timeout:
                remaining = max(1.0, spec.wait_timeout - (time.monotonic() - handle.triggered_at))
            try:
                handle.outcome = self.wait(handle.triggered, expect_success=spec.expect_success, timeout=remaining, test=test or spec.key, flow=spec.flow)
                handle.outcome.trigger_seconds = handle.trigger_seconds
                handle.finished_after = time.monotonic() - handle.triggered_at
                if self.engine.timings and self.engine.timings[-1]["flow"] == spec.flow:
                    self.engine.timings[-1].update(trigger_seconds=handle.trigger_seconds, observed_seconds=handle.finished_after, key=spec.key)
            except Exception as exc:
                handle.error = exc
        if handle.error is not None:
            raise handle.error
        return handle


@dataclass
class Spec:
    """A run a test needs: which flow, how it is deployed and triggered, what end is expected."""

    key: str
    capability: str
    flow: str
    params: Dict[str, Any] = field(default_factory=dict)
    top_level: Dict[str, Any] = field(default_factory=dict)
    env: Optional[Dict[str, str]] = None
    extra_tags: Tuple[str, ...] = ()
    expect_success: bool = True
    recover: bool = False  # trigger through DeployedFlow.from_deployment(name)
    wait_timeout: Optional[float] = None  # seconds after trigger (default: --mfx-run-timeout)
    order: int = 100  # prefetch order: long runs first so they overlap the rest

    def tags(self, session_tag: str) -> List[str]:
        return [f"{session_tag}-{self.key}", *self.extra_tags]


@dataclass
class Handle:
    """A launched run; ``outcome`` once it ended, ``error`` if launching or waiting failed."""

    spec: Spec
    deployed: Any = None
    recovered: Any = None
    triggered: Any = None
    trigger_seconds: float = 0.0
    triggered_at: float = 0.0
    finished_after: float = 0.0
    outcome: Optional[Outcome] = None
    error: Optional[Exception] = None

    @property
    def run(self) -> Any:
        assert self.outcome is not None, "finish() the handle first"
        return self.outcome.run


def run_duration(run: Any) -> Optional[float]:
    """Seconds from the run's registration (init) to its last task's end, from Metaflow metadata.

    Comparable between an orchestrated run and a local ``Runner`` run of the same flow (bench);
    None when the metadata lacks a timestamp (e.g. a task killed from outside).
    """
    try:
        ends = [task.finished_at for step in run for task in step if task.finished_at is not None]
        if run.created_at is None or not ends:
            return None
        return max(0.0, (max(ends) - run.created_at).total_seconds())
    except Exception:  # timing is diagnostics only
        return None


def cli_output(impl: Any, limit: int = 4000) -> str:
    """stdout+stderr of the CLI processes a DeployerImpl spawned (the error text the user saw)."""
    chunks: List[str] = []
    spm = getattr(impl, "spm", None)
    for command in list(getattr(spm, "commands", {}).values()):
        for stream in ("stdout", "stderr"):
            path = getattr(command, "log_files", {}).get(stream)
            if path:
                try:
                    with open(path, encoding="utf-8", errors="replace") as fh:
                        chunks.append(fh.read())
                except OSError:
                    pass
    text = "\n".join(c for c in chunks if c.strip())
    return text[-limit:]


def _short(exc: BaseException, limit: int = 3000) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[:limit] + " …(truncated)"


def task_data(run: Any, step: str) -> Any:
    """``run[step].task.data`` with a clear message when the step did not run."""
    try:
        return run[step].task.data
    except KeyError:
        raise AssertionError(pitfall("O18,O20", f"step {step!r} has no task in run {run.pathspec}", fix="every step of the graph must run")) from None
