"""Deploy, trigger and wait through the public Metaflow Deployer API, with bounded waits.

Only the public API is used: ``Deployer(flow_file, **top_level).<method>(**deploy_args)
.create(tags=...)``, ``.trigger(**params)``, ``TriggeredRun.run/.status``, and the
``DeployedFlow`` classmethods with ``impl=TYPE``. Metaflow is imported inside functions: its
configuration is frozen at import, and the devstack environment is loaded by the session fixture
first. Flow files are resolved from this package, never from the CWD.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .expect import fail, pitfall
from .plugin import Engine

FLOWS = Path(__file__).resolve().parent / "flows"
STATUSES = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
FAILED_STATUSES = {"FAILED", "TIMED_OUT", "ABORTED"}
POLL = 1.0
CREATE_TIMEOUT = 60  # O1: create must answer well within a minute


def flow_path(kind: str, name: str) -> str:
    """Absolute path of one of our flows (``flows/<kind>/<name>.py``)."""
    path = FLOWS / kind / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"compliance flow {path} is missing from the mfx package")
    return str(path)


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
            pid = "O1" if elapsed >= CREATE_TIMEOUT - 1 else "O3"
            raise fail(
                pid,
                f"create() of {flow} failed after {elapsed:.0f} s: {_short(exc)}\nCLI output (tail):\n{cli_output(impl)}",
                fix="see the CLI output; every exit-0 path must write the attribute file",
            ) from None
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
            if status == "SUCCEEDED" and run is not None and time.monotonic() - started > 30 and not run.finished:
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
            self.engine.timings.append({"flow": flow, "test": test, "trigger_seconds": 0.0, "run_seconds": elapsed})
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
            except BaseException as exc:  # noqa: B036 - re-raised below for every test that shares the run
                if not isinstance(exc, Exception):
                    raise
                self.cache[key] = ("error", exc)
        state, value = self.cache[key]
        if state == "error":
            raise value
        return value


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
