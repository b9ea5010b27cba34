"""Run our flows with ``Runner(flow, decospecs=[<decospec>])`` against the live backend.

Every wait is bounded (``--mfx-run-timeout``): ``Runner.run()`` itself waits forever, so runs go
through ``async_run`` + ``wait(timeout)``. Metaflow is imported inside functions: its
configuration is frozen at import and the devstack environment is loaded first. Flow files are
resolved from the mfx package, never from the CWD.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from mfx.compliance import cleanup
from mfx.compliance import progress as live
from mfx.compliance.expect import fail, pitfall
from mfx.compliance.plugin import Engine
from mfx.compliance.runspec import Spec, not_declared

FLOWS = Path(__file__).resolve().parents[2] / "flows" / "backend"
READ_TIMEOUT = 180  # seconds until the Runner's attribute file must appear


def flow_file(name: str) -> str:
    path = FLOWS / ("%s.py" % name)
    if not path.is_file():
        raise FileNotFoundError("compliance flow %s is missing from the mfx package" % path)
    return str(cleanup.flows_dir(FLOWS.parent) / FLOWS.name / path.name)  # a private copy (see cleanup.flows_dir)


#: Building a Runner reloads metaflow.cli (MetaflowAPI.from_cli); two threads doing it at once
#: can see a half-initialised module ("cannot import name 'start' from 'metaflow.cli"). Launches
#: are serialised; the runs themselves still proceed concurrently.
_LAUNCH_LOCK = threading.Lock()


@dataclass
class RunResult:
    """A finished (or timed out) run: the client's Run plus the launcher's output."""

    flow: str
    status: str  # successful | failed | timeout
    returncode: Optional[int]
    run: Any  # metaflow.Run (None if the run never started)
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])


class BackendRuns:
    """Per-session runner bound to the backend under test; runs the declared runs (:class:`Spec`,
    ``@pytest.mark.mfx_run``) once each, in the background, for every test that reads them."""

    def __init__(self, engine: Engine, workdir: Path) -> None:
        self.engine = engine
        self.workdir = workdir
        self.cache: Dict[str, "Future[RunResult]"] = {}
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mfx-run")
        # label -> (state, since, seconds to its end): what the live progress shows of every run
        self.states: Dict[str, Tuple[str, float, Optional[float]]] = {}
        self._states_lock = threading.Lock()
        self.progress = getattr(engine, "progress", None)  # the live progress display (None: off)
        if self.progress is not None:
            self.progress.add_source(self.progress_rows)

    def progress_rows(self) -> List[live.RunRow]:
        with self._states_lock:
            return [live.RunRow(label, state, since, ended_after=ended) for label, (state, since, ended) in self.states.items()]

    def _new_label(self, flow: str, resume: bool) -> str:
        base = flow + (" (resume)" if resume else "")
        with self._states_lock:
            label, n = base, 1
            while label in self.states:
                n += 1
                label = "%s #%d" % (base, n)
            self.states[label] = ("queued", time.monotonic(), None)
        return label

    def _set_state(self, label: str, state: str, ended_after: Optional[float] = None) -> None:
        with self._states_lock:
            self.states[label] = (state, time.monotonic(), ended_after)

    @property
    def plugin(self) -> str:
        return self.engine.config.plugin

    @property
    def decospec(self) -> str:
        return self.engine.config.decospec or self.engine.config.plugin

    def run(
        self,
        flow: str,
        decospecs: Optional[List[str]] = None,
        resume: bool = False,
        timeout: Optional[float] = None,
        top_level: Optional[Dict[str, Any]] = None,
        cwd: Optional[Path] = None,
        watch: Optional[Callable[[str], None]] = None,
        env: Optional[Dict[str, str]] = None,
        label: Optional[str] = None,
        **run_kwargs: Any,
    ) -> RunResult:
        """Run (or resume) ``flow`` with the backend decorator on every step, from ``cwd``
        (default: the session workdir; a directory below it shares its local metadata).

        ``watch`` is called with the launcher's output so far (stdout, then stderr) about every
        half second while the run is in progress; ``env`` overrides environment variables of the
        launcher (and so of every process it starts); ``label`` names the run in the live progress."""
        label = label or self._new_label(flow, resume)
        with live.waiting_for(self.progress, label):
            result = self._run(flow, decospecs, resume, timeout, top_level, cwd, watch, env, label, **run_kwargs)
        return result

    def _run(self, flow: str, decospecs: Optional[List[str]], resume: bool, timeout: Optional[float], top_level: Optional[Dict[str, Any]],
             cwd: Optional[Path], watch: Optional[Callable[[str], None]], env: Optional[Dict[str, str]], label: str, **run_kwargs: Any) -> RunResult:
        from metaflow import Run, Runner

        specs = [self.decospec] if decospecs is None else decospecs
        limit = float(timeout or self.engine.run_timeout) + float(run_kwargs.pop("extra_timeout", 0))
        top = {"pylint": False, **(top_level or {})}
        started = time.monotonic()

        async def go() -> Any:
            with _LAUNCH_LOCK:
                runner = Runner(
                    flow_file(flow), show_output=False, cwd=str(cwd or self.workdir), file_read_timeout=READ_TIMEOUT,
                    decospecs=specs, env=env, **top,
                )
            try:
                with _LAUNCH_LOCK:
                    if resume:
                        executing = await runner.async_resume(**run_kwargs)
                    else:
                        executing = await runner.async_run(**run_kwargs)
                self._set_state(label, "running")
                if watch is not None or threading.current_thread() is threading.main_thread():
                    while executing.returncode is None and time.monotonic() - started < limit:
                        if watch is not None:
                            watch(_read(executing, "stdout") + "\n" + _read(executing, "stderr"))
                        live.tick(self.progress)  # the waiting (main) thread shows the progress
                        await asyncio.sleep(0.5)
                await executing.wait(timeout=max(1.0, limit - (time.monotonic() - started)))
                # read the launcher's output before cleanup() deletes its log files
                return executing, _read(executing, "stdout"), _read(executing, "stderr")
            finally:
                runner.cleanup()

        try:
            executing, stdout, stderr = asyncio.run(go())
        except Exception as exc:  # noqa: BLE001 - the run ended before it was created (e.g. refused)
            self._set_state(label, "failed", time.monotonic() - started)
            return RunResult(flow, "failed", None, None, "", str(exc), time.monotonic() - started)
        self._set_state(label, "finished" if executing.status == "successful" else "failed", time.monotonic() - started)
        run = None
        try:
            run = Run(executing.run.pathspec, _namespace_check=False)
        except Exception:  # noqa: BLE001 - reported by the caller's assertions
            run = getattr(executing, "run", None)
        result = RunResult(
            flow=flow,
            status=executing.status,
            returncode=executing.returncode,
            run=run,
            stdout=stdout,
            stderr=stderr,
            seconds=time.monotonic() - started,
        )
        self.engine.timings.append(
            {"flow": flow, "test": "resume" if resume else "run", "trigger_seconds": 0.0, "run_seconds": result.seconds}
        )
        if result.status == "timeout":
            raise fail("B20", "flow %s did not finish within %.0f s; launcher output:\n%s" % (flow, limit, result.tail()),
                       fix="check that jobs start (engine queue) and that the trampoline exits when the job ends")
        return result

    def explain(self, result: RunResult, candidates: str, what: str, fix: str = "") -> str:
        """The failure message of an unexpected run result, diagnosed from its evidence.

        A known error in a failed task's stderr or the launcher output names its pitfall; only
        without one does the message fall back to ``candidates`` (what the scenario exercises).
        """
        from mfx.compliance.diagnose import diagnose_backend_failure
        from mfx.compliance.harness import tasks_of

        # the run has ended: every task that did not succeed failed (a killed job leaves no end marker)
        tasks = tasks_of(result.run) if result.run is not None else []
        errors = [(t.pathspec, t.stderr) for t in tasks if not t.successful]
        ok = [t.pathspec for t in tasks if t.successful]
        diag = diagnose_backend_failure(f"{what} (status {result.status})", result.output, errors, candidates, fix, succeeded=ok)
        return pitfall(diag.pid, "%s; launcher output:\n%s" % (diag.what, result.tail(60)), fix=diag.fix or fix or None)

    def prefetch(self, specs: List[Spec]) -> None:
        """Start ``specs`` now, in this order (the plan of the selected tests: long runs first)."""
        for spec in specs:
            self.launch(spec)

    def launch(self, spec: Spec) -> None:
        """Start the run of ``spec`` in the background, once per session (runs proceed concurrently,
        like on a real cluster; each run is still bounded by its own timeout)."""
        if spec.key in self.cache:
            return
        with self._states_lock:
            self.states[spec.key] = ("queued", time.monotonic(), None)
        kwargs: Dict[str, Any] = dict(spec.params)
        if spec.extra_timeout:
            kwargs["extra_timeout"] = spec.extra_timeout
        self.cache[spec.key] = self.pool.submit(
            self.run, spec.flow, top_level=spec.top_level or None, env=spec.env, timeout=spec.wait_timeout, label=spec.key, **kwargs
        )

    def shared(self, spec: Spec) -> RunResult:
        """The run of ``spec``, shared by every test that declares it (started now if not yet)."""
        current = getattr(self.engine, "current", None)
        if current is not None and current.nodeid and spec.key not in current.runs:
            raise not_declared(current.nodeid, spec)
        self.launch(spec)
        future = self.cache[spec.key]
        if future.done():  # a later reader of a finished run: nothing to wait for (or to show)
            return future.result()
        with live.waiting_for(self.progress, spec.key):
            while True:
                try:
                    return future.result(timeout=1.0)
                except FutureTimeout:
                    live.tick(self.progress)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _read(executing: Any, stream: str) -> str:
    try:
        return getattr(executing, stream)
    except OSError:
        return ""


def task(run: Any, step: str) -> Any:
    """The (single) task of ``step``."""
    return next(iter(run[step]))


def artifact(run: Any, step: str, name: str) -> Any:
    """``run[step].task.data.<name>``; a missing artifact fails with what the task does have."""
    from mfx.compliance.diagnose import diagnose_missing_artifact

    data = task(run, step).data
    try:
        return getattr(data, name)
    except AttributeError:
        present = sorted(n for n in getattr(data, "_artifacts", {}) if not n.startswith("_"))
        diag = diagnose_missing_artifact("%s/%s" % (run.pathspec, step), name, present)
        raise AssertionError(pitfall(diag.pid, diag.what, fix=diag.fix)) from None


def orphan_precondition(witness: str) -> Optional[str]:
    """Why orphan_flow's scenario did not happen (None: a sibling job was alive when the run failed).

    ``witness`` is what the failing task recorded right before failing (flows/backend/orphan_flow.py).
    """
    if not witness:
        return "the failing task recorded no witness of its sibling (it did not reach its failure)"
    if witness.startswith("alive"):
        return None
    return (
        "no sibling job was running when the run failed (%s): the backend ran the foreach tasks one at a time, "
        "so nothing was left to clean up" % witness
    )


def resource_merge(attrs: Dict[str, str], mapping: Dict[str, str], requested: Dict[str, float]) -> Tuple[List[str], Dict[str, str], Dict[str, str]]:
    """How the backend decorator's attributes ``attrs`` took Metaflow's @resources ``requested``.

    ``mapping`` (``[tool.mfx.compliance] resource_attributes``) names the decorator's attribute of a
    @resources name where it differs; otherwise the same name is looked up. Returns (configured
    attributes the decorator lacks, @resources name -> attribute that exists, attribute -> value kept
    below the request).
    """
    names = {key: mapping.get(key, key) for key in requested}
    missing = [attr for key, attr in names.items() if key in mapping and attr not in attrs]
    merged = {key: attr for key, attr in names.items() if attr in attrs}
    kept: Dict[str, str] = {}
    for key, attr in merged.items():
        try:
            value = float(attrs.get(attr) or 0)
        except ValueError:
            value = 0.0
        if value < requested[key]:
            kept["%s (@resources %s=%g)" % (attr, key, requested[key])] = str(attrs.get(attr))
    return missing, merged, kept


def env_without_sysroot_local() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "METAFLOW_DATASTORE_SYSROOT_LOCAL"}
