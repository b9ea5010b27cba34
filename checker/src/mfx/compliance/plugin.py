"""pytest plugin of the compliance suite (entry point ``pytest11: mfx_compliance``).

Installed with mfx, so it is loaded by every pytest run in the environment; it therefore does
nothing unless ``--mfx-compliance`` is given (``mfx compliance`` passes it). When active it
reads ``[tool.mfx.compliance]`` (``--mfx-project``), imports the extension's declared optional
capabilities, skips tests of optional capabilities that are not declared, starts the devstack
once per session (fixture ``mfx_engine``) and writes the Markdown capability matrix
(``--mfx-report-md``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterator, List, Optional

import pytest

from . import capabilities as caps
from . import cleanup, report, runspec
from .config import ComplianceConfig, ConfigError, validate
from .devstack import Devstack, DevstackError, apply_env, read_env
from .expect import NOT_EXERCISED
from .expect import NOT_RUN as NOT_RUN_PREFIX
from .progress import Progress
from .progress import mode as progress_mode

MARKER = "capability"
DEFAULT_RUN_TIMEOUT = 300.0
# The skip reason of every test that needed the engine when the devstack did not start; the error
# itself is reported once, at the end of the session (not once per test).
NOT_RUN = "not run: the devstack did not start"


@dataclass
class Current:
    """The test now running (set by the plugin from its start to its end, fixtures included) and
    the keys of the runs it declares: a wait for any other run is a missing declaration."""

    nodeid: str = ""
    runs: FrozenSet[str] = frozenset()


@dataclass
class SuiteState:
    """Everything the active plugin knows during one session."""

    config: ComplianceConfig
    declared: FrozenSet[str]
    run_timeout: float
    report_md: Optional[Path]
    started_at: float = field(default_factory=time.monotonic)
    item_caps: Dict[str, List[str]] = field(default_factory=dict)  # nodeid -> capability ids
    item_names: Dict[str, str] = field(default_factory=dict)  # nodeid -> test name
    results: Dict[str, report.CapabilityResult] = field(default_factory=dict)
    devstack: Optional[Devstack] = None
    devstack_error: Optional[str] = None  # set when the devstack did not start: nothing engine-bound ran
    timings: List[dict] = field(default_factory=list)  # filled by the harness (bench)
    snapshot: Optional[cleanup.Snapshot] = None  # processes and CWD files before the session
    leftovers: List[str] = field(default_factory=list)  # report lines: what the extension left behind
    progress: Optional[Progress] = None  # live run states while tests wait (None: off)
    runs: List[runspec.Spec] = field(default_factory=list)  # the plan: runs of the selected tests (runspec.plan)
    item_runs: Dict[str, FrozenSet[str]] = field(default_factory=dict)  # nodeid -> keys of the runs it declares
    current: Current = field(default_factory=Current)


STATE_KEY = pytest.StashKey[SuiteState]()


@dataclass
class Engine:
    """What tests get from ``mfx_engine``: config, the devstack environment, limits."""

    config: ComplianceConfig
    declared: FrozenSet[str]
    env: Dict[str, str]
    state_dir: Path
    run_timeout: float
    timings: List[dict]
    progress: Optional[Progress] = None  # the harness registers its runs here and ticks it while it waits
    runs: List[runspec.Spec] = field(default_factory=list)  # the runs the selected tests declare, in launch order
    current: Current = field(default_factory=Current)  # the test now running (which runs it may wait for)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mfx-compliance", "mfx compliance suite")
    group.addoption("--mfx-compliance", action="store_true", default=False, help="activate the mfx compliance suite")
    group.addoption("--mfx-project", default=None, metavar="DIR", help="repository with [tool.mfx.compliance] in pyproject.toml (default: CWD)")
    group.addoption("--mfx-report-md", default=None, metavar="PATH", help="write the Markdown capability matrix here (plus a .json twin)")
    group.addoption(
        "--mfx-run-timeout", type=float, default=DEFAULT_RUN_TIMEOUT, metavar="SECONDS", help="upper bound of every wait for a run (default 300)"
    )


def _state(config: pytest.Config) -> Optional[SuiteState]:
    return config.stash.get(STATE_KEY, None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(id): the compliance capability a test checks (see mfx.compliance.capabilities)")
    config.addinivalue_line("markers", f"{runspec.MARKER}(*specs): the runs a compliance test waits for (mfx.compliance.runspec.Spec)")
    if not config.getoption("--mfx-compliance"):
        return
    project = Path(config.getoption("--mfx-project") or os.getcwd()).resolve()
    try:
        cfg, declared = validate(project)
    except ConfigError as exc:
        raise pytest.UsageError(f"mfx compliance: {exc}") from None
    md = config.getoption("--mfx-report-md")
    config.stash[STATE_KEY] = SuiteState(
        config=cfg,
        declared=declared,
        run_timeout=float(config.getoption("--mfx-run-timeout")),
        report_md=Path(md).resolve() if md else None,
    )


def _capability_ids(item: pytest.Item) -> List[str]:
    return [str(m.args[0]) for m in item.iter_markers(MARKER) if m.args]


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    state = _state(config)
    for item in items:
        ids = _capability_ids(item)
        if not ids:
            continue
        if state is None:
            item.add_marker(pytest.mark.skip(reason="mfx compliance suite inactive: run `mfx compliance` (or pytest --mfx-compliance)"))
            continue
        kind = state.config.kind
        for cid in ids:
            try:
                cap = caps.get(cid, kind)
            except KeyError as exc:
                raise pytest.UsageError(f"{item.nodeid}: {exc.args[0]}") from None
            if cap is None:
                item.add_marker(pytest.mark.skip(reason=f"{cid} is not a {kind} capability"))
            elif not cap.required and cid not in state.declared:
                item.add_marker(pytest.mark.skip(reason=f"optional capability {cid} not declared in {state.config.capabilities}"))


def _known(cid: str, kind: str) -> bool:
    try:
        return caps.get(cid, kind) is not None
    except KeyError:
        return False


def pytest_collection_finish(session: pytest.Session) -> None:
    """Register the selected tests (after -k/-m deselection) in the capability matrix, and plan the
    runs they declare (only theirs: ``-k one_test`` launches one test's runs)."""
    state = _state(session.config)
    if state is None:
        return
    try:
        state.runs = runspec.plan(session.items)
        state.item_runs = {item.nodeid: frozenset(s.key for s in runspec.declared(item)) for item in session.items}
    except runspec.DeclarationError as exc:
        raise pytest.UsageError(f"mfx compliance: {exc}") from None
    kind = state.config.kind
    for item in session.items:
        ids = [cid for cid in _capability_ids(item) if _known(cid, kind)]
        if not ids:
            continue
        state.item_caps[item.nodeid] = ids
        state.item_names[item.nodeid] = item.name
        for cid in ids:
            report.record(state.results, cid, item.name, "not run")


def _skip_reason(rep: pytest.TestReport) -> str:
    longrepr = rep.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).replace("Skipped: ", "", 1)
    return ""


def _outcome_of_skip(reason: str) -> str:
    """A skip's outcome in the matrix: "not run" (the test could not run), "not exercised" (its
    scenario did not happen), or "skipped" (it does not apply, e.g. an undeclared capability)."""
    if reason.startswith(NOT_RUN) or reason.startswith(NOT_RUN_PREFIX):
        return "not run"
    if reason.startswith(NOT_EXERCISED):
        return "not exercised"
    return "skipped"


def _record(config: pytest.Config, rep: pytest.TestReport) -> None:
    state = _state(config)
    if state is None or rep.nodeid not in state.item_caps:
        return
    if rep.skipped:
        outcome = _outcome_of_skip(_skip_reason(rep))
    elif rep.failed:
        outcome = "failed" if rep.when == "call" else "error"
    elif rep.when == "call":
        outcome = "passed"
    else:
        return  # a passing setup/teardown says nothing by itself
    message = _failure_message(rep) if rep.failed else ""
    for cid in state.item_caps[rep.nodeid]:
        report.record(state.results, cid, state.item_names[rep.nodeid], outcome, _skip_reason(rep) if rep.skipped else "", message)


def _failure_message(rep: pytest.TestReport) -> str:
    """A failure's message without the traceback: the crash line (``pytest.fail``/assert message)."""
    crash = getattr(rep.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) if crash is not None else None
    if not text:
        text = str(rep.longrepr or "")
    for prefix in ("AssertionError: ", "Failed: ", "mfx.compliance.expect.ComplianceFailure: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text.strip()


def _not_run_reason(state: SuiteState) -> str:
    # Short and the same for every test: the error itself is in the summary and the matrix, once.
    return f"{NOT_RUN} (its error is reported once, at the end of the run and in the capability matrix)"


def _devstack_location(state: SuiteState) -> tuple:
    """Where the devstack command is configured (pyproject.toml, its `devstack =` line)."""
    pyproject = state.config.project / "pyproject.toml"
    try:
        lines = pyproject.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    number = next((n for n, line in enumerate(lines, 1) if line.strip().startswith("devstack")), 1)
    return str(pyproject), number


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """The "not run" skips all point at the devstack's configuration, so pytest's summary folds
    them into one line (it folds skips with the same location and reason)."""
    rep = yield
    state = _state(item.config)
    if state is not None and rep.skipped and item.nodeid in state.item_caps:
        # The JUnit XML tells "not exercised" / "not run" from a plain skip by a property (and the
        # skip message keeps its prefix); the teardown report carries the item's properties.
        item.user_properties.append(("mfx_outcome", _outcome_of_skip(_skip_reason(rep))))
    if state is not None and state.devstack_error is not None and rep.skipped and _skip_reason(rep).startswith(NOT_RUN):
        path, number = _devstack_location(state)
        rep.longrepr = (path, number, rep.longrepr[2])
    return rep


class _Recorder:
    """Holds the config so the logreport hook (which gets no config) can reach the state."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        _record(self.config, report)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple) -> None:
        state = _state(self.config)
        if state is not None:
            state.current.nodeid, state.current.runs = nodeid, state.item_runs.get(nodeid, frozenset())
        if state is not None and state.progress is not None:
            state.progress.test = nodeid.rsplit("::", 1)[-1]

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple) -> None:
        state = _state(self.config)
        if state is not None:
            state.current.nodeid, state.current.runs = "", frozenset()
        if state is not None and state.progress is not None:
            state.progress.clear()
            state.progress.test = ""


def _progress(config: pytest.Config) -> Optional[Progress]:
    """Live progress written through pytest's terminal reporter, with output capture suspended."""
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is None:
        return None
    tty = progress_mode(bool(getattr(reporter, "isatty", False)))
    if tty is None:
        return None
    capman = config.pluginmanager.getplugin("capturemanager")

    def write(text: str) -> None:
        with capman.global_and_fixture_disabled() if capman is not None else nullcontext():
            reporter._tw.write(text)
            reporter._tw.flush()

    def begin_line() -> None:
        with capman.global_and_fixture_disabled() if capman is not None else nullcontext():
            reporter.ensure_newline()  # pytest re-writes its line prefix after the status line

    return Progress(write, tty, width=getattr(reporter._tw, "fullwidth", 120), begin_line=begin_line)


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _state(session.config) is None:
        return
    session.config.pluginmanager.register(_Recorder(session.config), "mfx-compliance-recorder")
    state = _state(session.config)
    state.progress = _progress(session.config)
    state.snapshot = cleanup.Snapshot.take()
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (CI cancel, `timeout`) unwinds like Ctrl-C, so the devstack is still stopped.
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)


def _teardown_devstack(state: SuiteState) -> Optional[str]:
    if state.devstack is None:
        return None
    return state.devstack.down()


def _report_paths(config: pytest.Config, state: SuiteState) -> List[Path]:
    """The suite's own output files (never reported as left behind by the extension)."""
    paths = []
    if state.report_md is not None:
        paths += [state.report_md, state.report_md.with_suffix(".json")]
    xml = getattr(config.option, "xmlpath", None)
    if xml:
        paths.append(Path(xml))
    return paths


def _collect_leftovers(config: pytest.Config, state: SuiteState) -> None:
    if state.snapshot is None:
        return
    try:
        found = cleanup.collect(state.snapshot, ignore_files=_report_paths(config, state))
    except Exception as exc:  # the check must never hide the suite's own result
        state.leftovers = [f"could not check for leftovers: {type(exc).__name__}: {exc}"]
        return
    finally:
        state.snapshot.release()
    try:
        found.beside_flows = cleanup.written_beside_flows()
    except OSError as exc:
        found.beside_flows = [f"(could not list the flows copy: {exc})"]
    state.leftovers = found.lines()


@pytest.hookimpl(trylast=True)  # after pytest's own sessionfinish has torn the session fixtures down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None:
        return
    problem = _teardown_devstack(state)  # also covers KeyboardInterrupt (fixture teardown may not run)
    if problem:
        sys.stderr.write(f"mfx compliance: devstack down failed: {problem}\n")
    _collect_leftovers(session.config, state)
    if state.devstack_error is not None and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        # Every engine-bound test was skipped as "not run": that is no pass.
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if state.report_md is not None:
        report.write(
            state.report_md,
            state.config.kind,
            state.config.plugin,
            state.declared,
            state.results,
            time.monotonic() - state.started_at,
            timings=state.timings,
            problem=f"the devstack did not start: {state.devstack_error}" if state.devstack_error else None,
            leftovers=state.leftovers,
        )


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """The devstack's start-up error, once (every test that needed it says only "not run")."""
    state = _state(config)
    if state is not None and state.leftovers:
        terminalreporter.section("mfx compliance: left behind by the extension", sep="=", yellow=True, bold=True)
        for line in state.leftovers:
            terminalreporter.line(line)
    if state is None or state.devstack_error is None:
        return
    terminalreporter.section("mfx compliance: the devstack did not start", sep="=", red=True, bold=True)
    terminalreporter.line(state.devstack_error)
    terminalreporter.line(
        "Every capability test that needs the engine was not run (the capability matrix says \"not run\"); "
        "fix the devstack and run the suite again."
    )


def pytest_report_header(config: pytest.Config) -> Optional[List[str]]:
    state = _state(config)
    if state is None:
        return None
    return [
        f"mfx compliance: {state.config.kind} '{state.config.plugin}' in {state.config.project}",
        f"mfx compliance: declared optional capabilities: {', '.join(sorted(state.declared)) or 'none'}",
    ]


def _default_user() -> None:
    """As root (CI containers) Metaflow knows no user; give deployments a stable one."""
    if os.environ.get("METAFLOW_USER"):
        return
    if not any(os.environ.get(v) not in (None, "", "root") for v in ("SUDO_USER", "USERNAME", "USER")):
        os.environ["METAFLOW_USER"] = "mfx-compliance"


@pytest.fixture(scope="session")
def mfx_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The live engine for the whole session: the devstack started once (or reused)."""
    state = _state(request.config)
    if state is None:
        pytest.skip("mfx compliance suite inactive")
    if "metaflow.metaflow_config" in sys.modules and not os.environ.get("MFX_COMPLIANCE_ALLOW_EARLY_METAFLOW"):
        # Metaflow freezes its configuration (datastore root, metadata) at import time.
        sys.stderr.write("mfx compliance: warning: metaflow was imported before the devstack environment was loaded\n")
    if state.devstack_error is not None:
        pytest.skip(_not_run_reason(state))
    state_dir = tmp_path_factory.mktemp("devstack")
    # Before the devstack starts: its workers launch the tasks and need a user as much as the
    # deployments do (as root, Metaflow's init fails with "Unknown user" in every task otherwise).
    _default_user()
    reuse = os.environ.get("MFX_DEVSTACK_ENV")
    try:
        if reuse:
            env = read_env(Path(reuse))
        elif state.config.devstack:
            state.devstack = Devstack(state.config.devstack, state.config.project, state_dir)
            env = state.devstack.up()
        else:
            env = {}
    except DevstackError as exc:
        problem = _teardown_devstack(state)
        state.devstack_error = str(exc) + (f"\n(down also failed: {problem})" if problem else "")
        # A skip, not an error: pytest re-raises a session fixture's failure in every test that uses
        # it, so the error would be printed once per test; it is printed once, at the end.
        pytest.skip(_not_run_reason(state))
    apply_env(env)
    if not os.environ.get("METAFLOW_DEFAULT_DATASTORE") or os.environ.get("METAFLOW_DEFAULT_DATASTORE") == "local":
        # One datastore root for the client and every task (pitfall O21), never the user's CWD.
        os.environ.setdefault("METAFLOW_DATASTORE_SYSROOT_LOCAL", str(state_dir / "datastore"))
    try:
        yield Engine(state.config, state.declared, env, state_dir, state.run_timeout, state.timings, state.progress, state.runs, state.current)
    finally:
        problem = _teardown_devstack(state)
        if problem:
            sys.stderr.write(f"mfx compliance: devstack down failed: {problem}\n")


def planned_runs(config: pytest.Config) -> List[runspec.Spec]:
    """The runs the selected tests declare, in launch order (empty when the suite is inactive)."""
    state = _state(config)
    return list(state.runs) if state is not None else []


@pytest.fixture
def mfx_tag() -> str:
    """A tag unique to this test: the engine is shared, so tests isolate by tags and names only."""
    return f"mfx-{uuid.uuid4().hex[:10]}"
