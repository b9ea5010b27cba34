"""Deploy, trigger and wait through the public Metaflow Deployer API, with bounded waits.

Only the public API is used: ``Deployer(flow_file, **top_level).<method>(**deployer_options)
.create(tags=..., **deploy_args)``, ``.trigger(**params)``, ``TriggeredRun.run/.status``, and the
``DeployedFlow`` classmethods with ``impl=TYPE``. Metaflow is imported inside functions: its
configuration is frozen at import, and the devstack environment is loaded by the session fixture
first. Flow files are resolved from this package, never from the CWD.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from . import cleanup
from . import diagnose as dx
from . import progress as live
from .expect import ComplianceFailure, fail, pitfall
from .plugin import Engine
from .runspec import Spec, not_declared

FLOWS = Path(__file__).resolve().parent / "flows"  # the package's flows; runs deploy a private copy (cleanup.flows_dir)
STATUSES = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
FAILED_STATUSES = {"FAILED", "TIMED_OUT", "ABORTED"}
POLL = 1.0
CREATE_TIMEOUT = 60  # O1: create must answer well within a minute
SUCCEEDED_GRACE = 30.0  # a SUCCEEDED run must be visible and finished this soon after
UNKNOWN_GRACE = 60.0  # a triggered run unknown to both the engine and the client after this is lost
RUN_LOOKUP_GRACE = 10.0  # how long a diagnosis waits for a deployment's run to show up in the client
CONTROL_TIMEOUT = 180.0  # the plain control run of a diagnosis
PREFETCH_BUDGET = 240.0  # seconds of create+trigger launched ahead in the first test's setup (see prefetch)
LOG_BYTES = 2_000_000  # of each devstack log read for a diagnosis (the end of the file)
GIVE_UP_AFTER = 2  # long-bound triggers in a row that do not return before the suite stops waiting for any (O24)
TRIGGER_ASYNC = "trigger-async"  # the capability whose pitfall (O24) is a trigger that waits for the run


_STARTUP: List[float] = []  # measured once per process (startup_seconds)
STARTUP_PROBE = [sys.executable, "-c", "import metaflow.cli"]  # what every Deployer CLI does first


def startup_seconds(again: bool = False) -> float:
    """Wall seconds this machine takes to start the suite's Python and import Metaflow's CLI: the longest
    measurement so far, the first taken once per process and another whenever ``again``. Every Deployer CLI
    pays it before its own work: on a starved machine (2 cores, load 30) it took 34 s for 1 s of CPU, and a
    create that needs a second of work missed a fixed 60 s bound."""
    if not _STARTUP or again:
        started = time.monotonic()
        try:
            subprocess.run(STARTUP_PROBE, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=4 * CREATE_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            pass
        _STARTUP.append(time.monotonic() - started)
    return max(_STARTUP)


def create_timeout() -> float:
    """How long create (and the Deployer's attribute file of any command) may take: :data:`CREATE_TIMEOUT` of
    the CLI's own work plus twice this machine's Python+Metaflow start-up (O1 is a create that does not
    answer, not a machine that is slow to start interpreters)."""
    return CREATE_TIMEOUT + 2 * startup_seconds()


def starved(limit: float) -> bool:
    """Whether this machine now starts Python and imports Metaflow so much more slowly than when
    ``limit`` was set that the bound would be over 10% longer (measures the start-up again)."""
    startup_seconds(again=True)
    return create_timeout() > 1.1 * limit


def flow_path(kind: str, name: str) -> str:
    """Absolute path of one of our flows (``flows/<kind>/<name>.py``)."""
    if not (FLOWS / kind / f"{name}.py").is_file():
        raise FileNotFoundError(f"compliance flow {FLOWS / kind / f'{name}.py'} is missing from the mfx package")
    return str(cleanup.flows_dir(FLOWS) / kind / f"{name}.py")


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


@dataclass
class Context:
    """How a deployment was made (and, on a triggered run, triggered): the evidence of what it varies."""

    flow: str
    tags: List[str]
    env: Dict[str, str]
    top_level: Dict[str, Any]
    params: Dict[str, Any] = field(default_factory=dict)
    deployed: Any = None
    at: float = 0.0
    log_marks: Dict[str, int] = field(default_factory=dict)  # devstack log file -> its size at trigger time
    blocked_for: float = 0.0  # seconds trigger() blocked, waited for once O24 was known (Harness.trigger)


def _remember(obj: Any, context: Optional[Context]) -> None:
    if context is None:
        return
    try:
        obj._mfx_context = context
    except Exception:  # an object that refuses attributes only loses its diagnosis context
        pass


def _context(obj: Any) -> Optional[Context]:
    return getattr(obj, "_mfx_context", None)


def _raise(diagnosis: "dx.Diagnosis") -> ComplianceFailure:
    failure = fail(diagnosis.pid, diagnosis.what, fix=diagnosis.fix or None)
    failure.pids = [p.strip() for p in diagnosis.pid.split(",") if p.strip()]  # type: ignore[attr-defined]
    failure.kind = diagnosis.kind  # type: ignore[attr-defined]
    return failure


# What a deployment sets that plain runs do not, and the pitfall that setting exercises.
_TOP_LEVEL_PITFALLS = {
    "branch": ("O13", "--branch {value}"),
    "production": ("O13", "--production"),
    "config_value": ("O11", "config values {value}"),
    "config": ("O11", "config files {value}"),
    "decospecs": ("O28", "--with {value}"),
}


def variation(context: Context, shape: "dx.FlowShape") -> List[Tuple[str, str]]:
    """(pitfall, setting) for everything this deployment varies against a plain run of a plain flow."""
    out: List[Tuple[str, str]] = []
    if context.env.get("METAFLOW_USER") or context.env.get("METAFLOW_OWNER"):
        out.append(("O14", f"deployed by user {context.env.get('METAFLOW_USER') or context.env.get('METAFLOW_OWNER')!r} (a @project user branch)"))
    for key, value in context.top_level.items():
        if key in _TOP_LEVEL_PITFALLS and value not in (None, False, [], ()):
            pid, text = _TOP_LEVEL_PITFALLS[key]
            out.append((pid, text.format(value=value)))
    if context.params:
        out.append(("O9", f"parameters {sorted(context.params)}"))
    if shape.start_step != "start" or shape.end_step != "end":
        out.append(("O20", f"custom start/end steps {shape.start_step!r}/{shape.end_step!r}"))
    return out


def last_command(deployer: Any, name: str) -> Optional["dx.CommandEvidence"]:
    """Exit status and output of the newest CLI process of ``deployer`` whose command line has ``name``."""
    spm = getattr(deployer, "spm", None)
    commands = list(getattr(spm, "commands", {}).values())
    for command in reversed(commands):
        argv = [str(a) for a in (getattr(command, "command", None) or [])]
        if name not in argv:
            continue
        process = getattr(command, "process", None)
        code = process.poll() if process is not None else None
        if code is not None:
            # Metaflow's CommandManager copies the CLI's output into its log files from threads through buffered
            # files, flushed when the pipe closes: read them only once those threads are done (bounded)
            for thread in (getattr(command, "stdout_thread", None), getattr(command, "stderr_thread", None)):
                if isinstance(thread, threading.Thread):
                    thread.join(timeout=10)
        logs = getattr(command, "log_files", {}) or {}
        return dx.CommandEvidence(name=" ".join(argv[argv.index(name) - 1 : argv.index(name) + 1]), returncode=code, stderr=_read(logs.get("stderr")), stdout=_read(logs.get("stdout")))
    return None


def finished_late(deployer: Any, name: str, wait: float) -> Optional[float]:
    """Seconds (at most ``wait``) until the still running ``name`` CLI of ``deployer`` exited 0; None when
    none was running, or it exited non-zero, or was still running then (evidence for a create cut at its bound)."""
    commands = running_commands(deployer, name)
    if not commands:
        return None
    command = commands[-1]
    started = time.monotonic()
    try:
        code = command.process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return None
    if code == 0:
        return time.monotonic() - started
    # the Deployer removed the attribute FIFO when it gave up: a CLI that got to writing it fails there
    argv = [str(a) for a in (getattr(command, "command", None) or [])]
    path = argv[argv.index("--deployer-attribute-file") + 1] if "--deployer-attribute-file" in argv[:-1] else ""
    stderr = _read((getattr(command, "log_files", {}) or {}).get("stderr"))
    if path and path in stderr and "No such file or directory" in stderr:
        return time.monotonic() - started
    return None


def deployment_identifier(deployed: Any) -> str:
    """What identifies a deployment to ``DeployedFlow.from_deployment`` / ``get_triggered_run``: its deployer's
    name, as Metaflow's own test/ux passes it (``from_deployment(deployed_flow.deployer.name, impl=...)``).
    ``DeployedFlow.name`` starts as the same value, but a provider may show a shorter one there
    (metaflow-dagster: the job name, while ``deployer.name`` holds the JSON identifier it recovers from)."""
    name = getattr(getattr(deployed, "deployer", None), "name", None)
    return str(name if isinstance(name, str) and name else deployed.name)


def running_commands(deployer: Any, name: str) -> List[Any]:
    """The CLI processes of ``deployer`` whose command line has ``name`` and that are still running."""
    out = []
    for command in list(getattr(getattr(deployer, "spm", None), "commands", {}).values()):
        process = getattr(command, "process", None)
        if name in [str(a) for a in (getattr(command, "command", None) or [])] and process is not None and process.poll() is None:
            out.append(command)
    return out


def command_line(impl: Any, name: str) -> str:
    """The newest CLI command line of ``impl`` holding ``name``, from the flow file on (for messages)."""
    for command in reversed(list(getattr(getattr(impl, "spm", None), "commands", {}).values())):
        argv = [str(a) for a in (getattr(command, "command", None) or [])]
        if name in argv:
            start = next((i for i, a in enumerate(argv) if a.endswith(".py")), 0)
            return " ".join(argv[start:])
    return "?"


def _local_roots() -> Tuple[str, List[str]]:
    """The client's local datastore root, and the other roots tasks commonly end up writing to: the
    home directory's and the working directory's (and its parents') ``.metaflow`` (pitfall O21)."""
    if (os.environ.get("METAFLOW_DEFAULT_DATASTORE") or "local") != "local":
        return "", []
    sysroot = os.environ.get("METAFLOW_DATASTORE_SYSROOT_LOCAL", "")
    client = os.path.join(sysroot, ".metaflow") if sysroot and not sysroot.rstrip("/").endswith(".metaflow") else sysroot
    here = Path.cwd()
    candidates = [str(Path.home() / ".metaflow"), str(Path.home())] + [str(p / ".metaflow") for p in (here, *here.parents)]
    return client, candidates


def _read(path: Optional[str], limit: int = LOG_BYTES) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def tasks_of(run: Any, limit: int = 200) -> List["dx.TaskEvidence"]:
    """The tasks the client sees, with their state, attempt, logs and whether @catch fired (never raises)."""
    out: List[dx.TaskEvidence] = []
    try:
        for step in run:
            for task in step:
                ev = dx.TaskEvidence(pathspec=task.pathspec, step=step.id, finished=bool(task.finished), successful=bool(task.successful))
                try:
                    ev.attempt = int(task.current_attempt)
                    if not ev.successful or "_catch_exception" in task:
                        ev.stderr, ev.stdout = task.stderr or "", task.stdout or ""
                    ev.caught = "_catch_exception" in task or "@catch caught an exception" in ev.stderr + ev.stdout
                except Exception:  # a task without logs or artifacts keeps what is known
                    pass
                out.append(ev)
                if len(out) >= limit:
                    return out
    except Exception:  # diagnostics must never hide the real failure
        pass
    return out


def log_marks(dirs: Iterable[Path]) -> Dict[str, int]:
    """The current size of every devstack log (``*.log``): what is written after this belongs to later runs."""
    marks: Dict[str, int] = {}
    for folder in dirs:
        try:
            for log in Path(folder).glob("*.log"):
                marks[str(log.resolve())] = log.stat().st_size
        except OSError:
            continue
    return marks


def log_since(dirs: Iterable[Path], marks: Dict[str, int], limit: int = 400) -> List[str]:
    """Lines appended to the devstack logs since ``marks`` (a log created since counts whole): the
    evidence of logs that do not name run ids (other runs may interleave)."""
    out: List[str] = []
    for path, size in {**{k: 0 for k in log_marks(dirs)}, **marks}.items():
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                end = fh.tell()
                fh.seek(max(size, end - LOG_BYTES) if end >= size else 0)
                text = fh.read().decode("utf-8", errors="replace")
        except OSError:
            continue
        out += [f"{Path(path).name} (since the trigger): {line[:400]}" for line in text.splitlines() if line.strip()]
    return out[-limit:]


RUN_LOG_SCAN = 50_000  # directory entries walked under a devstack's state dir looking for per-run log files
RUN_LOG_FILES = 200  # per-run log files read at most
PROBLEM_LINE = re.compile(r"error|exception|traceback|failed|fatal|killed", re.I)


def run_log_files(dirs: Iterable[Path], run_id: str) -> List[Path]:
    """Log files below ``dirs`` kept per run: their path names ``run_id`` (Airflow writes each task
    attempt's log to ``logs/dag_id=D/run_id=R/task_id=T/attempt=N.log``; other engines key theirs
    alike); a local Metaflow datastore (``.metaflow``) is skipped, the client reads its task logs. Bounded:
    at most :data:`RUN_LOG_SCAN` entries walked, :data:`RUN_LOG_FILES` files kept."""
    found: List[Path] = []
    walked = 0
    for folder in dirs:
        for root, subdirs, files in os.walk(folder):
            subdirs[:] = [d for d in subdirs if d != ".metaflow"]  # a local datastore: read through the client
            walked += len(subdirs) + len(files)
            if walked > RUN_LOG_SCAN or len(found) >= RUN_LOG_FILES:
                return found
            if run_id in root:
                found.extend(Path(root) / f for f in sorted(files) if f.endswith(".log"))
            else:
                found.extend(Path(root) / f for f in sorted(files) if f.endswith(".log") and run_id in f)
    return found[:RUN_LOG_FILES]


def devstack_log_lines(dirs: Iterable[Path], run_id: str, context_lines: int = 2, limit: int = 40) -> List[str]:
    """Lines of the devstack's service logs (``*.log``) that name ``run_id``, each with the lines after it,
    then the problem lines (errors, failures) of the log files kept for that run (:func:`run_log_files`)."""
    if not run_id or len(run_id) < 4:
        return []
    # an engine-prefixed run id ("prefect-<flow run id>", O19) is named by its engine's own part in the engine's logs
    keys = [run_id]
    prefix, _, own = run_id.partition("-")
    if prefix.isalpha() and len(own) >= 8:
        keys.append(own)
    dirs = list(dirs)
    out: List[str] = []
    seen_files = set()
    for folder in dirs:
        try:
            files = sorted(Path(folder).glob("*.log"), key=lambda f: f.stat().st_mtime)
        except OSError:
            continue
        for log in files:
            if log.resolve() in seen_files:
                continue
            seen_files.add(log.resolve())
            lines = _read(str(log)).splitlines()
            keep = -1
            for i, line in enumerate(lines):
                if any(key in line for key in keys):
                    keep = i + context_lines
                if i <= keep:
                    out.append(f"{log.name}: {line[:400]}")
    out = out[-limit:]
    per_run: List[str] = []
    for log in run_log_files(dirs, run_id):
        if log.resolve() in seen_files:
            continue
        seen_files.add(log.resolve())
        name = "/".join(log.parts[-3:])
        per_run.extend(f"{name}: {line[:400]}" for line in _read(str(log)).splitlines() if PROBLEM_LINE.search(line))
    return out + per_run[-limit:]


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
        self.current: Set[str] = set()  # capabilities of the test now running (see blocked())
        self.planned: Dict[str, float] = {}  # run key -> when the prefetch planned it (shown "queued" until launched)
        self._waiting: Optional[Handle] = None  # the handle finish() waits for (its status feeds the progress)
        # O24, a trigger that blocks until its run ends (see trigger()): the first such failure, the CLI
        # processes it left running, the seconds the next trigger may wait, and whether a trigger given
        # that long still did not return (then nobody waits again: bounded)
        self.blocking: Optional[Exception] = None
        self._blocked_cli: List[Any] = []
        self._trigger_budget: Optional[float] = None
        self.blocking_gave_up = False
        self._unreturned = 0  # long-bound triggers in a row that did not return within their budget
        self.progress = getattr(engine, "progress", None)  # the live progress display (None: off)
        if self.progress is not None:
            self.progress.add_source(self.progress_rows)

    def progress_rows(self) -> List[live.RunRow]:
        """Every planned or launched run and its state, for the live progress (:mod:`.progress`)."""
        now = time.monotonic()
        rows: List[live.RunRow] = []
        for key in [*self.planned, *(k for k in self.handles if k not in self.planned)]:
            handle = self.handles.get(key)
            if handle is None:
                rows.append(live.RunRow(key, "queued", self.planned[key]))
            else:
                rows.append(handle.row(now))
        return rows

    def prefetch(self, specs: Iterable["Spec"], budget: float = PREFETCH_BUDGET) -> List[str]:
        """create + trigger ``specs`` now (in order) so their runs overlap; tests then wait for theirs.

        The prefetch runs inside the first test's setup, under that one test's timeout: after
        ``budget`` seconds it stops, and each run not launched yet is launched by the test that needs
        it (``finish``), under that test's own timeout. Without the bound an engine whose ``create``
        takes half a minute (metaflow-prefect under load) timed out the first test's setup, and that
        one timeout was reported as the failure of every test. Returns the keys left for later."""
        specs = list(specs)
        now = time.monotonic()
        for spec in specs:
            self.planned.setdefault(spec.key, now)
        with live.waiting_for(self.progress, f"the launch of {len(specs)} runs"):
            for number, spec in enumerate(specs):
                # a trigger known to block (O24) would run each job inside this one setup: the tests launch theirs
                if time.monotonic() - now > budget or self.blocking is not None:
                    return [s.key for s in specs[number:]]
                self.launch(spec)
                live.tick(self.progress)
        return []

    @property
    def impl(self) -> str:
        return self.engine.config.plugin

    def flow(self, name: str) -> str:
        return flow_path(self.kind, name)

    def _shape(self, flow: str) -> Optional["dx.FlowShape"]:
        """The steps of one of our flows, read statically (None when it is not one of ours)."""
        try:
            return dx.flow_shape(_read(self.flow(flow)))
        except FileNotFoundError:
            return None

    def deployer(self, flow: str, env: Optional[Dict[str, str]] = None, **top_level: Any) -> Any:
        """The provider's DeployerImpl; a missing method is pitfalls O3/O4/O30."""
        from metaflow import Deployer

        flow_file = self.flow(flow)
        _evict(flow_file)
        top_level.setdefault("pylint", False)
        d = Deployer(flow_file, show_output=True, env=env, file_read_timeout=round(create_timeout()), **top_level)
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
            return getattr(d, method)(**self.engine.config.deployer_options)
        except AttributeError as exc:
            raise fail("O6", f"Deployer(...).{method}() raised {exc}", fix="store kwargs in self._deployer_kwargs before super().__init__") from None

    def create_args(self, tags: Iterable[str]) -> Dict[str, Any]:
        """Keyword arguments of ``create()``: the suite's tags plus ``deploy_args`` (as Metaflow's test/ux passes them)."""
        return {**self.engine.config.deploy_args, "tags": list(tags)}

    def create(self, flow: str, tags: Iterable[str] = (), env: Optional[Dict[str, str]] = None, **top_level: Any) -> Any:
        """Deploy ``flow``; must answer within :func:`create_timeout` (pitfall O1).

        A create cut at the bound while this machine became slower to start interpreters than when
        the bound was set (the start-up measured again is over 10% longer) is tried once more with
        the grown bound: a starved machine is not an extension that never answers."""
        return self._create(flow, tags, env, top_level, retried=False)

    def _create(self, flow: str, tags: Iterable[str], env: Optional[Dict[str, str]], top_level: Dict[str, Any], retried: bool,
                bound: Optional[float] = None) -> Any:
        limit = bound or create_timeout()
        impl = self.deployer(flow, env=env, **top_level)
        if bound is not None and hasattr(impl, "file_read_timeout"):
            impl.file_read_timeout = round(bound)
        started = time.monotonic()
        try:
            deployed = impl.create(**self.create_args(tags))
        except Exception as exc:
            elapsed = time.monotonic() - started
            if elapsed >= limit - 1 and not retried:
                if starved(limit):
                    return self._create(flow, tags, env, top_level, retried=True)
                late = finished_late(impl, "create", wait=2 * limit)
                if late is not None:
                    # the cut CLI went on and exited 0: create answers, only more slowly than the bound (a loaded
                    # machine); once more with a bound that covers the time it took
                    return self._create(flow, tags, env, top_level, retried=True, bound=max(2 * limit, 1.5 * (elapsed + late)))
            output = cli_output(impl)
            bound_text = ""
            if elapsed >= limit - 1:
                pid, fix = "O1", "every exit-0 path of create must write the attribute file"
                bound_text = (f" (the bound: {CREATE_TIMEOUT} s + 2 x {startup_seconds():.0f} s this machine takes to start Python and import Metaflow)"
                              if bound is None else f" (the bound of a second try: {limit:.0f} s)")
            elif "No such command" in output or "no such option" in output.lower():
                pid, fix = "O3,O4", "register exactly one CLI group named like TYPE"
            else:
                pid, fix = "", "the create CLI exited non-zero: see its output"
                found = dx.diagnose_create(f"{exc}\n{output}", dx.flow_shape(_read(self.flow(flow))))
                if found is not None:
                    raise fail(found.pid, f"{found.what}; create() of {flow} failed after {elapsed:.0f} s\ncommand: {command_line(impl, 'create')}\n"
                               f"CLI output (tail):\n{output}", fix=found.fix) from None
            command = command_line(impl, "create")
            raise fail(pid, f"create() of {flow} failed after {elapsed:.0f} s: {_short(exc)}{bound_text}\ncommand: {command}\nCLI output (tail):\n{output}", fix=fix) from None
        if not getattr(deployed, "name", None):
            raise fail("O1", "create() returned a deployment without a name", fix="write {'name','flow_name','metadata'} to the attribute file")
        _remember(deployed, Context(flow=flow, tags=list(tags), env=dict(env or {}), top_level=dict(top_level)))
        return deployed

    def trigger(self, deployed: Any, **params: Any) -> Tuple[Any, float]:
        """Trigger and time the call (pitfall O24 when it takes as long as the run).

        Once a trigger was found to block until its run ends (O24: its CLI still running at the
        attribute-file bound), later triggers wait for the run instead (the Deployer's attribute-file
        bound becomes the run budget), so the tests behind them check the run
        and are judged on their own pitfall; the trigger-async test still fails with O24."""
        deployer = getattr(deployed, "deployer", None)
        long_bound = self.blocking is not None and not self.blocking_gave_up and hasattr(deployer, "file_read_timeout")
        if long_bound:
            budget = self._trigger_budget or self.engine.run_timeout
            self._settle(time.monotonic() + budget)  # the blocked CLI still runs its job: let it end first (bounded)
            deployer.file_read_timeout = max(1, round(budget))  # the trigger's own budget, whatever the settling took
        started = time.monotonic()
        context = _context(deployed)
        marks = log_marks(self.log_dirs())
        try:
            triggered = deployed.trigger(**params)
        except Exception as exc:
            seconds = time.monotonic() - started
            command = last_command(deployer, "trigger")
            evidence = dx.TriggerEvidence(
                flow=context.flow if context else str(getattr(deployed, "flow_name", "?")),
                params=dict(params),
                error=_short(exc, 600),
                seconds=seconds,
                command=command,
                started_runs=self._runs_of(deployed, context, since=started),
                decospecs=list((context.top_level.get("decospecs") or []) if context else []),
                shape=self._shape(context.flow) if context else None,
            )
            diagnosis = dx.diagnose_trigger(evidence)
            if not diagnosis.pid and any(deployed is r for r in self.__dict__.get("_recovered", [])):
                diagnosis = dx.Diagnosis(
                    "O23", f"the deployment recovered by from_deployment could not be triggered (the one create() returned is not "
                    f"used here): {diagnosis.what}", "rebuild the deployer from what create() stored: configs, @project branch, "
                    "parameter types", "recovered-trigger-failed")
            failure = _raise(diagnosis)
            if "O24" in failure.pids and command is not None and command.returncode is None:  # type: ignore[attr-defined]
                failure.blocking = True  # type: ignore[attr-defined]
                self._blocked_cli += running_commands(deployer, "trigger")
                if self.blocking is None:
                    self.blocking = failure
                elif long_bound:
                    # given a whole run budget it still did not return: one slow run on a loaded machine may,
                    # two in a row stop the waiting (bounded)
                    self._unreturned += 1
                    self.blocking_gave_up = self._unreturned >= GIVE_UP_AFTER
            raise failure from None
        if long_bound:
            self._unreturned = 0
        seconds = time.monotonic() - started
        blocked_for = seconds if long_bound and seconds >= dx.LONG_TRIGGER else 0.0
        if not getattr(triggered, "pathspec", None) or "/" not in triggered.pathspec:
            raise fail("O2", f"trigger payload has no usable pathspec: {getattr(triggered, 'pathspec', None)!r}", fix="write pathspec '<Flow>/<run id>'")
        if context is not None:
            _remember(triggered, Context(context.flow, context.tags, context.env, context.top_level, params=dict(params), deployed=deployed, at=started,
                                         log_marks=marks, blocked_for=blocked_for))
        return triggered, seconds

    def _settle(self, deadline: float) -> None:
        """Wait (until ``deadline`` at most) for the trigger CLIs that blocked to end; one still running
        then is left to the suite's cleanup and never waited for again."""
        while self._blocked_cli:
            command = self._blocked_cli.pop()
            process = getattr(command, "process", None)
            if process is None:
                continue
            with live.waiting_for(self.progress, "a blocked trigger (O24) to end its run"):
                while process.poll() is None and time.monotonic() < deadline:
                    live.tick(self.progress)
                    time.sleep(POLL)

    def wait(self, triggered: Any, *, expect_success: bool = True, timeout: Optional[float] = None, test: str = "", flow: str = "") -> Outcome:
        """Poll status and the Run until finished, failed or timed out; never longer than the run timeout.

        A run that does not end as expected is diagnosed from the evidence (:mod:`.diagnose`).
        """
        limit = timeout or self.engine.run_timeout
        started = time.monotonic()
        deadline = started + limit
        seen: List[Optional[str]] = []
        progress = self.progress
        handle = self._waiting if self._waiting is not None and self._waiting.triggered is triggered else None
        label = handle.spec.key if handle is not None else (flow or str(getattr(triggered, "pathspec", "") or "a run"))
        with live.waiting_for(progress, label):
            return self._wait(triggered, expect_success, started, deadline, seen, handle, test, flow)

    def _wait(self, triggered: Any, expect_success: bool, started: float, deadline: float, seen: List[Optional[str]], handle: Optional["Handle"], test: str, flow: str) -> Outcome:
        run = None
        status: Optional[str] = None
        succeeded_at: Optional[float] = None
        timed_out = True
        while time.monotonic() < deadline:
            status = _status(triggered)
            if not seen or seen[-1] != status:
                seen.append(status)
            if handle is not None:
                handle.last_status = status
            live.tick(self.progress)
            run = triggered.run
            if run is not None and run.finished:
                timed_out = False
                break
            if status in FAILED_STATUSES:
                run = triggered.run
                timed_out = False
                break
            if status is None and run is None and time.monotonic() - started > UNKNOWN_GRACE:
                break  # neither the engine nor the client knows the run: diagnosed below
            if status == "SUCCEEDED":
                succeeded_at = succeeded_at or time.monotonic()
                if time.monotonic() - succeeded_at > SUCCEEDED_GRACE:
                    break  # SUCCEEDED but no finished run: diagnosed below
            time.sleep(POLL)
        elapsed = time.monotonic() - started
        finished = run is not None and bool(run.finished)
        if run is None or (status not in FAILED_STATUSES and not finished) or (expect_success and not run.successful):
            evidence = self.run_evidence(triggered, run, seen, elapsed, expect_success=expect_success, timed_out=timed_out)
            diagnosis = dx.diagnose_run(evidence)
            if diagnosis is not None:
                raise _raise(diagnosis)
        outcome = Outcome(triggered, run, status, seen, 0.0, elapsed)
        if flow:
            self.engine.timings.append(
                {"flow": flow, "test": test, "status": status, "trigger_seconds": 0.0, "run_seconds": run_duration(run), "observed_seconds": elapsed}
            )
        return outcome

    # -- evidence for diagnoses ----------------------------------------------------------------

    def run_evidence(
        self, triggered: Any, run: Any, seen: List[Optional[str]], elapsed: float, *, expect_success: bool = True, timed_out: bool = False
    ) -> dx.RunEvidence:
        """Everything the client, the provider and the devstack logs say about one run (never raises)."""
        context = _context(triggered)
        pathspec = str(getattr(triggered, "pathspec", "") or "")
        run_id = pathspec.split("/", 1)[1] if "/" in pathspec else pathspec
        shape = dx.flow_shape(_read(self.flow(context.flow))) if context else dx.FlowShape()
        ev = dx.RunEvidence(pathspec=pathspec, statuses=list(seen), elapsed=elapsed, visible=run is not None, timed_out=timed_out, expect_success=expect_success, shape=shape)
        if run is not None:
            ev.finished, ev.successful = bool(run.finished), bool(run.successful)
            ev.tasks = tasks_of(run)
        elif context is not None:
            ev.other_runs = [r for r in self._runs_of(context.deployed, context, since=context.at) if r != run_id]
        if run is None and "/" in pathspec:
            ev.client_root, candidates = _local_roots()
            ev.elsewhere = dx.local_roots_elsewhere(pathspec.split("/", 1)[0], run_id, ev.client_root, candidates)
        if context is not None:
            ev.variation = variation(context, shape)
            ev.decospecs = list(context.top_level.get("decospecs") or [])
        ev.log_lines = devstack_log_lines(self.log_dirs(), run_id) if run_id else []
        if not ev.log_lines and context is not None and context.log_marks:
            ev.log_lines = log_since(self.log_dirs(), context.log_marks)
        needs_control = (run is None or not ev.tasks) and ev.variation and not dx.match_patterns("\n".join(ev.log_lines))
        if needs_control and shape.start_step == "start" and not dx.id_problem(run_id) and not ev.other_runs:
            ev.control = self.control()
        return ev

    def log_dirs(self) -> List[Path]:
        """Where the devstack's services write their logs (the managed state dir, or the reused env.json's folder)."""
        dirs = [Path(self.engine.state_dir)]
        reuse = os.environ.get("MFX_DEVSTACK_ENV")
        if reuse:
            dirs.append(Path(reuse).resolve().parent)
        return dirs

    def _runs_of(self, deployed: Any, context: Optional["Context"], since: float = 0.0) -> List[str]:
        """Ids of runs of this deployment the client sees (found by its create() tags), polled briefly."""
        if context is None or not context.tags:
            return []
        from metaflow import Flow, namespace

        flow_name = str(getattr(deployed, "flow_name", "") or "")
        if not flow_name:
            return []
        deadline = time.monotonic() + RUN_LOOKUP_GRACE
        while True:
            try:
                namespace(None)
                found = [r.id for r in Flow(flow_name).runs(*context.tags)]
            except Exception:  # no run of the flow at all (MetaflowNotFound) or an unreadable root
                found = []
            if found or time.monotonic() > deadline:
                return found
            time.sleep(POLL)

    def control(self) -> str:
        """A plain run (linear_flow, nothing varied) on the same engine: "succeeded" or "failed: <cause>".

        Separates "this deployment's setting breaks the run" from "every run breaks" when the
        evidence of a run that died before its first task is otherwise silent. Run once per session.
        """
        for handle in self.handles.values():
            if handle.outcome is not None and handle.outcome.run is not None and handle.outcome.run.successful and not handle.spec.top_level and not handle.spec.env:
                return "succeeded"
        if "control" not in self.cache:
            self.cache["control"] = ("ok", "unknown (its own diagnosis asked for it)")  # no recursion
            budget, self._trigger_budget = self._trigger_budget, CONTROL_TIMEOUT  # a blocking trigger (O24) waits no longer
            try:
                deployed = self.create("linear_flow", tags=[f"{self.session_tag}-control"])
                triggered, _ = self.trigger(deployed)
                outcome = self.wait(triggered, timeout=min(self.engine.run_timeout, CONTROL_TIMEOUT))
                self.cache["control"] = ("ok", "succeeded" if outcome.run.successful else "failed")
            except Exception as exc:  # the control's own failure is evidence, not an error of the test
                self.cache["control"] = ("ok", "failed: " + str(exc).splitlines()[0][:200])
            finally:
                self._trigger_budget = budget
        return self.cache["control"][1]

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
        handle = Handle(spec, launched_at=time.monotonic())
        try:
            handle.deployed = self.create(spec.flow, tags=spec.tags(self.session_tag), env=spec.env, **spec.top_level)
            target = handle.deployed
            if spec.recover:
                target = self.recover(handle.deployed)
                keep_interrupt()
                _remember(target, _context(handle.deployed))
                handle.recovered = target
            handle.triggered, handle.trigger_seconds = self.trigger(target, **spec.params)
            handle.triggered_at = time.monotonic()
        except Exception as exc:
            handle.error = exc
        self.handles[spec.key] = handle
        return handle

    def recover(self, deployed: Any) -> Any:
        """``DeployedFlow.from_deployment(identifier, impl=TYPE)`` (:func:`deployment_identifier`), failing with pitfall O23."""
        from metaflow.runner.deployer import DeployedFlow

        identifier = deployment_identifier(deployed)
        try:
            recovered = DeployedFlow.from_deployment(identifier, impl=self.engine.config.deployer_method)
            self.__dict__.setdefault("_recovered", []).append(recovered)  # its trigger's failure is the recovery's (O23)
            return recovered
        except Exception as exc:  # noqa: B902 - any failure here is the provider's
            keep_interrupt()
            raise fail("O23", f"from_deployment({identifier!r}) failed: {_short(exc)}", fix="override from_deployment; persist the real flow name and parameter info") from None

    def finish(self, spec: "Spec", test: str = "") -> "Handle":
        """Launch ``spec`` if nobody did yet, then wait for its end (once; the result is shared).

        Inside a test, ``spec`` must be one of the runs the test declares (``@pytest.mark.mfx_run``)."""
        current = getattr(self.engine, "current", None)
        if current is not None and current.nodeid and spec.key not in current.runs:
            raise not_declared(current.nodeid, spec)
        handle = self.launch(spec)
        limit = spec.wait_timeout or (self.engine.run_timeout + spec.extra_timeout)
        if getattr(handle.error, "blocking", False) and not handle.relaunched and spec.capability != TRIGGER_ASYNC and not self.blocking_gave_up:
            # its trigger blocked (O24): launch it again, the trigger now waiting for the run, and check the run
            del self.handles[spec.key]
            self._trigger_budget = limit
            try:
                handle = self.launch(spec)
            finally:
                self._trigger_budget = None
            handle.relaunched = True
        if handle.error is None and handle.outcome is None:
            remaining = None
            if spec.wait_timeout or spec.extra_timeout:
                remaining = max(1.0, limit - (time.monotonic() - handle.triggered_at))
            self._waiting = handle
            try:
                handle.outcome = self.wait(handle.triggered, expect_success=spec.expect_success, timeout=remaining, test=test or spec.key, flow=spec.flow)
                handle.outcome.trigger_seconds = handle.trigger_seconds
                handle.finished_after = time.monotonic() - handle.triggered_at
                handle.succeeded = handle.outcome.run is not None and bool(handle.outcome.run.successful)
                if self.engine.timings and self.engine.timings[-1]["flow"] == spec.flow:
                    self.engine.timings[-1].update(trigger_seconds=handle.trigger_seconds, observed_seconds=handle.finished_after, key=spec.key)
            except Exception as exc:
                handle.error = exc
                handle.finished_after = time.monotonic() - handle.triggered_at if handle.triggered_at else 0.0
            finally:
                self._waiting = None
        if handle.error is not None:
            raise self.blocked(spec, self._after_blocking(handle))
        return handle

    def _after_blocking(self, handle: "Handle") -> Exception:
        """The error of a run whose trigger blocked until the run ended (O24), with that said in its message
        (the headline stays the run's own cause: the run was checked once the trigger returned)."""
        context = _context(handle.triggered) if handle.triggered is not None else None
        error = handle.error
        assert error is not None
        if context is None or not context.blocked_for or not isinstance(error, AssertionError) or getattr(error, "noted_blocking", False):
            return error
        note = (f"\n  (trigger() of this run blocked for {context.blocked_for:.0f} s until the run ended, O24 ({TRIGGER_ASYNC}); "
                "the suite waited for it and checked the run as usual)")
        wrapped = ComplianceFailure(f"{error}{note}")
        wrapped.pids = getattr(error, "pids", [])  # type: ignore[attr-defined]
        wrapped.kind = getattr(error, "kind", "")  # type: ignore[attr-defined]
        wrapped.noted_blocking = True  # type: ignore[attr-defined]
        handle.error = wrapped
        return wrapped

    def blocked(self, spec: "Spec", error: Exception) -> Exception:
        """``error`` as the current test sees it: "blocked by <capability>" when the run belongs to another capability.

        ``current`` holds the capabilities of the running test (set by the suite's conftest); a
        test that needs another capability's run to reach its own assertion reports that
        capability and its cause instead of failing as if its own check had failed.
        """
        if not self.current or spec.capability in self.current or not isinstance(error, AssertionError):
            return error
        wrapped = ComplianceFailure(f"blocked by {spec.capability} (run {spec.key!r}): {error}")
        wrapped.pids = getattr(error, "pids", [])  # type: ignore[attr-defined]
        wrapped.kind = getattr(error, "kind", "")  # type: ignore[attr-defined]
        return wrapped


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
    launched_at: float = 0.0
    last_status: Optional[str] = None  # the engine's status when last polled
    relaunched: bool = False  # launched again after its first trigger blocked (O24, see Harness.finish)
    succeeded: bool = False  # the run ended successful (set with outcome)

    def row(self, now: float) -> live.RunRow:
        """This run's state for the live progress: triggered, running, finished or failed."""
        key = self.spec.key
        if self.error is not None:
            return live.RunRow(key, "failed", self.triggered_at or self.launched_at, ended_after=self.finished_after or None)
        if self.outcome is not None:  # (succeeded is read once: the client's Run.successful queries the metadata)
            return live.RunRow(key, "finished" if self.succeeded else "failed", self.triggered_at, ended_after=self.finished_after)
        if self.triggered is None:
            return live.RunRow(key, "queued", self.launched_at)
        if self.last_status == "RUNNING":
            return live.RunRow(key, "running", self.triggered_at)
        return live.RunRow(key, "triggered", self.triggered_at)

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
