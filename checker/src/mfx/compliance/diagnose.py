"""Root-cause diagnosis of a failed trigger or run, from the evidence the suite can collect.

The harness gathers the evidence (the CLI's exit status and stderr, the statuses the provider
reported, the runs and tasks the Metaflow client sees, the lines of the devstack's service logs
that mention the run, what the deployment varies) into the plain dataclasses below; the pure
functions :func:`diagnose_trigger` and :func:`diagnose_run` turn it into one :class:`Diagnosis`
whose pitfall ids and first line name the first real cause. They never attach a fixed label to a
code path: the same "run never became visible" can be O2 (the run exists under another id), O19
(a numeric run id), O20 (a custom start step never started), O14 (the worker log says Metaflow
knows no user) or simply "no worker".
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

FAILED = {"FAILED", "TIMED_OUT", "ABORTED"}
FORBIDDEN_ID_CHARS = set(",:/!")
LONG_TRIGGER = 20.0  # seconds: a trigger that takes this long waited for something (the run?)
TAIL = 12  # lines of stderr/log evidence per source


@dataclass
class Diagnosis:
    """``pid`` is a comma-separated list of pitfall ids ("" when no known pitfall fits)."""

    pid: str
    what: str
    fix: str = ""
    kind: str = ""  # a stable tag of the situation (tests branch on it, e.g. "task-still-running")


@dataclass
class CommandEvidence:
    """One CLI process of the provider (e.g. ``<flow> temporal trigger``)."""

    name: str
    returncode: Optional[int]  # None: still running when the Deployer gave up
    stderr: str = ""
    stdout: str = ""


@dataclass
class TriggerEvidence:
    flow: str
    params: Dict[str, object]
    error: str  # "Type: message" of what trigger() raised
    seconds: float
    command: Optional[CommandEvidence] = None  # None: no CLI process was started
    started_runs: List[str] = field(default_factory=list)  # runs of this deployment the client sees
    decospecs: List[str] = field(default_factory=list)  # the deployment's --with decorators (Deployer decospecs)
    shape: Optional["FlowShape"] = None  # what the flow file declares (its @retry steps, switch cases), when known


@dataclass
class TaskEvidence:
    pathspec: str
    step: str
    finished: bool
    successful: bool
    attempt: int = 0
    stderr: str = ""
    stdout: str = ""
    caught: bool = False  # @catch stored an exception in this task


@dataclass
class FlowShape:
    """What the flow file declares (read statically: no import)."""

    start_step: str = "start"
    end_step: str = "end"
    decorators: Dict[str, Dict[str, Dict[str, object]]] = field(default_factory=dict)  # step -> deco -> literal kwargs
    switches: Dict[str, List[str]] = field(default_factory=dict)  # split-switch step -> its case steps

    def steps_with(self, deco: str) -> List[str]:
        return [s for s, decos in self.decorators.items() if deco in decos]


@dataclass
class RunEvidence:
    pathspec: str  # what the trigger payload named
    statuses: List[Optional[str]]
    elapsed: float
    visible: bool  # the client sees the run of ``pathspec``
    finished: bool = False
    successful: bool = False
    timed_out: bool = False  # the wait hit its limit
    expect_success: bool = True
    tasks: List[TaskEvidence] = field(default_factory=list)
    other_runs: List[str] = field(default_factory=list)  # runs of this deployment under another id
    shape: FlowShape = field(default_factory=FlowShape)
    variation: List[Tuple[str, str]] = field(default_factory=list)  # (pitfall, what this deployment sets)
    decospecs: List[str] = field(default_factory=list)
    log_lines: List[str] = field(default_factory=list)  # devstack service log lines that name the run
    control: Optional[str] = None  # a plain run on the same engine: "succeeded", "failed: ...", None = unknown
    elsewhere: List[str] = field(default_factory=list)  # this run's data found under another local datastore root
    client_root: str = ""  # the client's local datastore root (where the run should be)

    @property
    def run_id(self) -> str:
        return self.pathspec.split("/", 1)[1] if "/" in self.pathspec else self.pathspec

    @property
    def last_status(self) -> Optional[str]:
        return self.statuses[-1] if self.statuses else None


# -- text evidence --------------------------------------------------------------------------------

# (pattern, pitfall, what it means, fix): known Metaflow error texts in a task's stderr or the log.
PATTERNS: Sequence[Tuple[str, str, str, str]] = (
    (
        r"Unknown user|could not determine your user name",
        "O14",
        "Metaflow on the worker knows no user (neither METAFLOW_OWNER nor METAFLOW_USER reached the task)",
        "pass the deploying user to every task: METAFLOW_OWNER (and METAFLOW_USER) in the task environment",
    ),
    (
        # a parameter *name* that is the printed text of a tuple ("('route"): the parameters went through
        # Metaflow's click API as a tuple, and reached the engine as its text (metaflow-prefect:
        # 'SignatureMismatchError: ... was provided with parameters ["(\'route"]')
        r"""parameters?\b[^\n]*?(["'])\(\\?(?!\1)['"][A-Za-z_][\w-]*\1""",
        "O8",
        "the engine got a parameter named like the text of a Python tuple: the trigger passed the parameters to Metaflow's "
        "click API as a tuple, which reached the engine as text",
        "pass lists, never tuples, to multi-value click options (run_params=list(...))",
    ),
    (
        r"split[-_ ]index|_foreach_stack|\d+ splits but only|is not a join step|multiple inputs|tri(es|ed) to join|Input paths",
        "O18",
        "Metaflow rejected the task's inputs",
        "build --input-paths / --split-index per node kind from the graph (foreach children get --split-index)",
    ),
    (
        r"Could not load expected configuration values|configuration value.*not (found|set)",
        "O11",
        "the task did not get the deployment's config values",
        "set METAFLOW_FLOW_CONFIG_VALUE (or --config-value) on every task",
    ),
    (
        r"input task \S+ of \S+ has not succeeded|join \S+ expected \d+ successful input",
        "O18",
        "a task's input paths name tasks that did not run (or not under those ids)",
        "build each task's --input-paths from the upstream tasks that ran, cut to the upstream step's foreach depth",
    ),
    (
        r"task was found for task '[^']*/_parameters/",
        "O20",
        "the run's _parameters task does not exist when a step needs it: init did not run for this run",
        "run init once per run before the start step (whatever the start step is named), with the run's id",
    ),
    (
        r"attempt \d+ of step \S+ exceeds its budget",
        "O15",
        "the task got an attempt number beyond its step's retry budget: the engine's attempt counter is not converted right",
        "pass the engine's 1-based try number as the attempt (the task runs with --retry-count = attempt - 1)",
    ),
    (
        r"[Nn]o such option: --",
        "O3,O10",
        "a Metaflow command rejected an option the orchestrator passed",
        "pass only options the command has (configs travel via METAFLOW_FLOW_CONFIG_VALUE, not --<config>)",
    ),
)
TASK_CRASHED = re.compile(r"Traceback \(most recent call last\)|Internal error|> failed:|TimeoutException")
TIMEOUT_TEXT = re.compile(r"TimeoutException|timed out after|took longer than|time limit|@timeout", re.I)
# A task stopped at its time limit, in its stderr or an engine's log (Metaflow: TimeoutException; Prefect:
# "Task run exceeded timeout of 60.0 second(s)", state TimedOut; Airflow: AirflowTaskTimeout)
# the engine's own log saying it ended a task or the run as failed (Prefect "Finished in state Failed",
# Airflow "Marking task as FAILED", Temporal "WorkflowExecutionFailed", a task command that exited non-zero)
ENGINE_FAILED_TEXT = re.compile(
    r"Finished in state (?:Failed|Crashed)|Marking (?:task|run) as FAILED|WorkflowExecution(?:Failed|TimedOut)|"
    r"CalledProcessError|returned non-zero exit status [1-9]|exited with (?:exit |return )?code [1-9]|"
    r"flow run \S+ as crashed|exited with status code [1-9]", re.I)
ENGINE_TIMEOUT_TEXT = re.compile(r"TimeoutException|timed out after|exceeded (?:its |the )?timeout|\bTimedOut\b|TaskTimeout", re.I)
CRASH_AT_EXIT = re.compile(
    r"Fatal Python error|PyGILState|at interpreter shutdown|Exception ignored in|Segmentation fault|core dumped|Aborted", re.I
)
# a Metaflow task's own traceback (the step command): in the trigger's stderr, the trigger ran the tasks itself
RAN_TASKS = re.compile(r"cli_components[/\\]step_cmd\.py|\btask\.run_step\(")
# the engine rejected a parameter value's type (it arrived as a string)
TYPE_REJECTED = re.compile(
    r"Invalid scalar|not valid for expected type|invalid literal for int\(\)|could not convert string to float|"
    r"expected (?:type )?['\"]?(?:int|integer|float|bool|boolean)\b|must be (?:an? )?(?:int|integer|float|number|bool)\b", re.I)
# click's complaint about arguments left over after the options (a value given to an option that takes none)
_EXTRA_ARGUMENT = re.compile(r"unexpected extra arguments? \(([^)]*)\)", re.I)


def _cli_text(value: object) -> str:
    """How a parameter value reads on a command line (str(), as an extension formats it)."""
    return str(value)


ENGINE_SILENT = re.compile(r"did not answer|timed? ?out|deadline exceeded|unreachable|connection refused|not reachable", re.I)


def tail(text: str, lines: int = TAIL) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


def match_patterns(text: str) -> Optional[Tuple[str, str, str, str]]:
    for pattern, pid, meaning, fix in PATTERNS:
        for line in (text or "").splitlines():
            hit = re.search(pattern, line)
            if hit:
                return pid, meaning, _around(line, hit), fix
    return None


def _around(line: str, hit: "re.Match[str]", width: int = 160) -> str:
    """The part of a (possibly very long log) line around a match."""
    start = max(0, hit.start() - width)
    end = min(len(line), hit.end() + width)
    return ("…" if start else "") + line[start:end].strip() + ("…" if end < len(line) else "")


def id_problem(run_id: str) -> Optional[str]:
    if not run_id:
        return None
    if run_id.isdigit():
        return f"run id {run_id!r} is numeric (the service metadata provider skips numeric ids)"
    bad = sorted(FORBIDDEN_ID_CHARS & set(run_id))
    if bad:
        return f"run id {run_id!r} contains {''.join(bad)!r} (delimiters of Metaflow's input paths)"
    return None


# -- the flow file --------------------------------------------------------------------------------


def flow_shape(source: str) -> FlowShape:
    """Start/end step names and step decorators of a flow file, read with ``ast`` (never imported)."""
    shape = FlowShape(start_step="", end_step="")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return FlowShape()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        decos: Dict[str, Dict[str, object]] = {}
        for deco in node.decorator_list:
            func = deco.func if isinstance(deco, ast.Call) else deco
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            kwargs: Dict[str, object] = {}
            if isinstance(deco, ast.Call):
                for kw in deco.keywords:
                    try:
                        kwargs[kw.arg or ""] = ast.literal_eval(kw.value)
                    except Exception:  # a non-literal argument (a name, a call): known to exist, value unknown
                        kwargs[kw.arg or ""] = None
            decos[name] = kwargs
        if "step" not in decos:
            continue
        shape.decorators[node.name] = {k: v for k, v in decos.items() if k != "step"}
        cases = _switch_cases(node)
        if cases:
            shape.switches[node.name] = cases
        if decos["step"].get("start") or (node.name == "start" and not shape.start_step):
            shape.start_step = node.name
        if decos["step"].get("end") or (node.name == "end" and not shape.end_step):
            shape.end_step = node.name
    shape.start_step = shape.start_step or "start"
    shape.end_step = shape.end_step or "end"
    return shape


def _switch_cases(func: ast.FunctionDef) -> List[str]:
    """The case steps of ``self.next({"a": self.x, ...}, condition=...)`` in a step body ([] if none)."""
    for node in ast.walk(func):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "next"):
            continue
        if node.args and isinstance(node.args[0], ast.Dict) and any(kw.arg == "condition" for kw in node.keywords):
            return [v.attr for v in node.args[0].values if isinstance(v, ast.Attribute)]
    return []


# -- where a run's data went ----------------------------------------------------------------------


def local_roots_elsewhere(flow_name: str, run_id: str, client_root: str, candidates: Sequence[str]) -> List[str]:
    """Directories ``<root>/<flow>/<run_id>`` that exist under a local datastore root other than the
    client's (``candidates``: roots such as ``~/.metaflow``): where the tasks of an invisible run wrote."""
    import os

    found = []
    client = os.path.realpath(client_root) if client_root else ""
    for root in candidates:
        if not root or os.path.realpath(root) == client:
            continue
        path = os.path.join(root, flow_name, run_id)
        if os.path.isdir(path) and path not in found:
            found.append(path)
    return found


# -- create ---------------------------------------------------------------------------------------

_LITERAL_STEP = re.compile(r"KeyError: ['\"](start|end)['\"]")


def diagnose_create(output: str, shape: FlowShape) -> Optional[Diagnosis]:
    """A failed ``create`` whose output shows the cause, else None (the CLI output is the evidence).

    ``KeyError: 'start'`` from a flow whose entry step has another name: the extension looked the
    step up by the literal name (metaflow-dagster's compiler did), pitfall O20."""
    for match in _LITERAL_STEP.finditer(output):
        literal = match.group(1)
        actual = shape.start_step if literal == "start" else shape.end_step
        if actual != literal:
            role = "entry" if literal == "start" else "exit"
            return Diagnosis(
                "O20",
                f"create looked up a step named {literal!r} (KeyError: {literal!r}), but this flow's {role} step is {actual!r}",
                fix="take the entry and exit steps from the graph (graph.start_step / graph.end_step), never the literal names 'start' / 'end'",
                kind="literal-step-name",
            )
    return None


# -- trigger --------------------------------------------------------------------------------------


def _retry_not_performed(stderr: str, ev: TriggerEvidence) -> str:
    """Evidence in a trigger CLI's stderr (it ran the tasks itself) that a step with @retry failed and was
    not run again: the user-code frame of the step appears in fewer tracebacks than its attempts ("" if not)."""
    if ev.shape is None:
        return ""
    frames = re.findall(rf'File "[^"]*?{re.escape(ev.flow)}\.py", line \d+, in (\w+)', stderr)
    if not frames:
        return ""
    step = frames[-1]  # the step whose error ended the run
    retry = ev.shape.decorators.get(step, {}).get("retry")
    if retry is None:
        return ""
    times = retry.get("times", 3) if isinstance(retry.get("times", 3), int) else 3
    attempts = frames.count(step)
    if times < 1 or attempts > times:
        return ""  # no retry budget, or every attempt failed: the run may rightly fail
    return (f"step {step} has @retry(times={times}) but its error shows in {attempts} attempt(s) of {times + 1}: "
            f"it failed and was never run again")


def diagnose_trigger(ev: TriggerEvidence) -> Diagnosis:
    """Why ``trigger()`` raised: from the exception, the CLI's exit status and stderr, and whether a run started."""
    cmd = ev.command
    stderr = tail(cmd.stderr if cmd else "")
    where = f"trigger({ev.params or ''}) of {ev.flow} failed after {ev.seconds:.0f} s: {ev.error}"
    if cmd is not None:
        status = "was still running" if cmd.returncode is None else f"exited {cmd.returncode}"
        where += f"\n  the `{cmd.name}` CLI {status}; stderr (tail):\n{_indent(stderr or '(empty)')}"
    if ev.started_runs:
        where += f"\n  the client sees run(s) {ev.started_runs} of this deployment: the run was started"
    if cmd is None:
        if ev.params and re.search(r"Unknown argument|unexpected keyword|no such option", ev.error, re.I):
            return Diagnosis("O7", f"the Deployer rejected the flow parameters before any CLI ran: {where}",
                             "decorate the trigger command with @parameters.add_custom_parameters(deploy_mode=False)", "trigger-params-rejected")
        if ev.params and "Invalid type for" in ev.error:
            return Diagnosis("O8", where, "pass lists, never tuples, to multi-value click options", "trigger-params-rejected")
        return Diagnosis("", f"trigger() raised before its CLI ran: {where}", "see the exception", "trigger-raised")
    if ev.started_runs:
        if ev.seconds >= LONG_TRIGGER or cmd.returncode is None or ENGINE_SILENT.search(stderr):
            return Diagnosis("O24", f"trigger() started the run, then kept waiting ({ev.seconds:.0f} s) instead of returning: {where}",
                             "start the run and return; never wait for it, never leave a child on the CLI's stdout/stderr", "trigger-waited")
        if cmd.returncode not in (0, None) and CRASH_AT_EXIT.search(stderr):
            return Diagnosis("", f"the trigger CLI started the run, then crashed at interpreter exit: {where}",
                             "flush and leave with os._exit(0) once the attribute file is written (engine SDK threads abort at exit)", "trigger-crashed-at-exit")
        return Diagnosis("O2", f"the trigger CLI started the run but did not report it: {where}",
                         "write {'name','metadata','pathspec'} to --deployer-attribute-file and exit 0", "trigger-no-payload")
    if cmd.returncode is None:
        return Diagnosis("O24" if ev.seconds >= LONG_TRIGGER else "O2", f"the trigger CLI never wrote its attribute file: {where}",
                         "write the trigger attribute file, then return without waiting", "trigger-no-payload")
    # the whole stderr: a task's traceback is often far above the tail (the engine's own summary follows it)
    if cmd.returncode != 0 and RAN_TASKS.search(cmd.stderr or ""):
        ran = (f"the trigger CLI ran the run's tasks in its own process and exited {cmd.returncode} when a task failed "
               f"(a failed run must be reported by status, not by trigger())")
        lost = _decospecs_not_acting(cmd.stderr or "", ev.decospecs)
        if lost:
            # a deploy-time decorator never reached (or never acted in) the tasks: the run should have gone
            # otherwise, so the first cause is the lost decorator, not how trigger() reported the end
            return Diagnosis("O28", f"{lost}; {ran} (O24): {where}",
                             "pass --with <spec> for every deploy-time decorator on each step command", "decospec-lost")
        unretried = _retry_not_performed(cmd.stderr or "", ev)
        if unretried:
            # the step's own @retry should have saved the run: the engine never ran the next attempt
            return Diagnosis("", f"{unretried}; the run the trigger CLI ran in its own process failed with that error: {where}",
                             "run a failed task again up to its @retry budget (the task exits non-zero on a retryable attempt and "
                             "expects the orchestrator to start attempt retry_count + 1)", "retry-not-performed")
        return Diagnosis("O24", f"{ran}: {where}",
                         "start the run and return; report the run's end through TriggeredRun.status", "trigger-ran-the-run")
    if ev.params:
        option = re.search(r"[Nn]o such option:?\s*'?--([\w-]+)", stderr)
        if option and option.group(1).replace("-", "_") in {str(p).replace("-", "_") for p in ev.params}:
            return Diagnosis("O7", f"the trigger command has no option for parameter --{option.group(1)}: {where}",
                             "decorate the trigger command with @parameters.add_custom_parameters(deploy_mode=False)", "trigger-params-rejected")
        typed = TYPE_REJECTED.search(stderr)
        named = [str(k) for k in ev.params if re.search(rf"\b{re.escape(str(k))}\b", stderr)]
        if typed and named:
            return Diagnosis("O9", f"the engine rejected the type of parameter {named[0]!r} ({typed.group(0)!r}: the value arrived as a "
                             f"string, not as the Parameter's type): {where}",
                             "convert each trigger parameter to its Parameter's type before handing it to the engine", "trigger-param-type")
        extra = _EXTRA_ARGUMENT.search(stderr)
        left = extra.group(1).split() if extra else []
        # booleans first: a flag option (pyflyte run's --flag/--no-flag) is the usual command that takes no value
        split = sorted((k for k, v in ev.params.items() if _cli_text(v) in left), key=lambda k: not isinstance(ev.params[k], bool))
        if split:
            # the value of a parameter left over as a stray argument: the extension wrote `--name value` for an
            # option that takes no value
            k = split[0]
            value = _cli_text(ev.params[k])
            kind = "a boolean flag" if isinstance(ev.params[k], bool) else "an option without a value"
            return Diagnosis("O9", f"the value of parameter {k!r} ({value}) was left over as an extra argument: "
                             f"it was passed as `--{k} {value}` to a command whose --{k} takes no value ({kind}): {where}",
                             "hand each parameter over in the form the receiving command expects (a boolean as --name / --no-name, or typed through the engine's API)",
                             "trigger-param-encoding")
        if "Invalid type for" in stderr:  # the click API's type check of a multi-value option, run inside the CLI
            return Diagnosis("O8", f"the trigger CLI rejected a parameter value: {where}", "pass lists, never tuples, to multi-value click options", "trigger-params-rejected")
        if re.search(r"extra argument|Invalid value for", stderr):
            return Diagnosis("O9", f"the trigger CLI rejected a parameter value: {where}", "pass each parameter as one value of the type its command expects", "trigger-params-rejected")
    switch = _switch_failure(cmd.stderr or "", ev.shape)
    if cmd.returncode != 0 and switch:
        return Diagnosis("O25", f"the engine failed at a split-switch: {switch}; {where}",
                         "route a switch by the one step name the task chose (its _transition holds a list of next steps)", "trigger-switch-failed")
    if cmd.returncode == 0:
        return Diagnosis("O2", f"the trigger CLI exited 0 without a usable payload: {where}", "write {'name','metadata','pathspec'} to --deployer-attribute-file", "trigger-no-payload")
    if CRASH_AT_EXIT.search(stderr):
        return Diagnosis("", f"the trigger CLI crashed (no run of this deployment is visible): {where}", "see the CLI's stderr", "trigger-crashed")
    if ENGINE_SILENT.search(stderr):
        return Diagnosis("", f"the engine did not answer the trigger (no run of this deployment started): {where}",
                         "check the engine (devstack) is up and reachable from the CLI", "trigger-engine-silent")
    return Diagnosis("", f"the trigger CLI failed: {where}", "see the CLI's stderr", "trigger-cli-failed")


# a step command line as engines log it ("$ python flow.py ... step boom --run-id ..."), its step name
_STEP_COMMAND = re.compile(r"\S+\.py\b[^\n]*?\sstep\s+(\w+)\s[^\n]*--run-id\b[^\n]*")


def _decospecs_not_acting(stderr: str, decospecs: Sequence[str]) -> str:
    """Evidence that a deploy-time ``--with`` decorator did not act in the tasks a trigger ran itself ("" when
    none): a step command line in the output that lacks ``--with <decorator>``; or, for ``catch`` (which
    stops every exception of a step from failing it), a task traceback that failed the run all the same."""
    names = [spec.split(":", 1)[0].strip() for spec in decospecs if spec.strip()]
    if not names:
        return ""
    for hit in _STEP_COMMAND.finditer(stderr):
        line = hit.group(0)
        missing = [n for n in names if not re.search(rf"--with[= ]['\"]?{re.escape(n)}\b", line)]
        if missing:
            cut = line if len(line) <= 300 else "…" + line[-299:]
            return (f"the deployment adds --with {', '.join(missing)}, but the command of step {hit.group(1)} lacks it: "
                    f"{cut.strip()}")
    if "catch" in names and "@catch caught an exception" not in stderr:
        spec = next(s.strip() for s in decospecs if s.split(":", 1)[0].strip() == "catch")
        return f"the deployment adds --with {spec}, yet a task's exception failed the run: @catch did not act in the task"
    return ""


ERROR_LINE = re.compile(r"error|exception|invalid|does not exist|not found|unknown|no such", re.I)


def _switch_failure(stderr: str, shape: Optional[FlowShape]) -> str:
    """An error line of ``stderr`` that names the case steps of one of the flow's split-switches ("" when
    none): the engine failed choosing the branch (metaflow-dagster: 'returned an output "['low']" that does
    not exist. The available outputs are ['high', 'low']')."""
    if shape is None or not shape.switches:
        return ""
    for line in reversed((stderr or "").splitlines()):
        if not ERROR_LINE.search(line):
            continue
        for step, cases in shape.switches.items():
            named = [c for c in cases if re.search(rf"(?<![\w.-]){re.escape(c)}(?![\w-])", line)]
            if len(cases) >= 2 and len(named) >= 2:
                text = line.strip()
                return f"switch step {step!r} (cases {cases}): {text if len(text) <= 300 else text[:299] + '…'}"
    return ""


# -- runs -----------------------------------------------------------------------------------------


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _tasks_table(tasks: Sequence[TaskEvidence]) -> str:
    if not tasks:
        return "  tasks: none registered"
    rows = []
    for t in tasks:
        state = "running" if not t.finished else ("ok" if t.successful else "FAILED")
        rows.append(f"  {t.pathspec} attempt {t.attempt}: {state}" + (" (@catch fired)" if t.caught else ""))
    return "  tasks:\n" + "\n".join(rows)


def _evidence(ev: RunEvidence, with_logs: bool = True) -> str:
    parts = [f"  statuses seen: {ev.statuses}", _tasks_table(ev.tasks)]
    for t in ev.tasks:
        if t.finished and not t.successful:
            parts.append(f"  --- {t.pathspec} stderr (tail) ---\n{_indent(tail(t.stderr) or '(empty)')}")
            break
    if with_logs and ev.log_lines:
        parts.append("  devstack log lines naming the run:\n" + _indent("\n".join(ev.log_lines[-TAIL:])))
    return "\n".join(parts)


def _from_text(ev: RunEvidence) -> Optional[Diagnosis]:
    """A known Metaflow error in a failed task's stderr, else in the devstack log lines of the run."""
    for t in ev.tasks:
        if t.finished and not t.successful:
            hit = match_patterns(t.stderr)
            if hit:
                pid, meaning, line, fix = hit
                return Diagnosis(pid, f"{meaning}: step {t.step} failed with {line!r}", fix, "known-error")
    hit = match_patterns("\n".join(ev.log_lines))
    if hit:
        pid, meaning, line, fix = hit
        return Diagnosis(pid, f"{meaning}: the devstack log of run {ev.run_id} says {line!r}", fix, "known-error")
    return None


def _before_first_task(ev: RunEvidence, state: str) -> Diagnosis:
    """The run never got a task (invisible, or visible without tasks): init or the entry step failed or never started."""
    text = _from_text(ev)
    if text:
        text.what = f"run {ev.pathspec} {state} before its first task: {text.what}"
        return text
    if ev.shape.start_step != "start":
        return Diagnosis("O20", f"run {ev.pathspec} {state} before its entry step {ev.shape.start_step!r} registered a task "
                         f"(the flow's start step has a custom name)", "use graph.start_step / graph.end_step, never the literal 'start'/'end'", "entry-never-started")
    if ev.variation and ev.control == "succeeded":
        pids = ",".join(dict.fromkeys(p for p, _ in ev.variation))
        why = "; ".join(w for _, w in ev.variation)
        return Diagnosis(pids, f"run {ev.pathspec} {state} before its first task, while a plain run on the same engine succeeds; "
                         f"this deployment differs by: {why}", "see the worker log for init's stderr", "variation")
    control = f" (a plain run on this engine {ev.control})" if ev.control else ""
    return Diagnosis("O20", f"run {ev.pathspec} {state} before its first task{control}: init or the start step failed on the worker",
                     "run `init` before the start step and see its stderr in the worker log", "init-failed")


def _retry_as_new_task(ev: RunEvidence, failed_tasks: Sequence[TaskEvidence]) -> str:
    """Evidence that a @retry step's retry ran under a new task id ("" when none): a task of the step
    failed on attempt k, within its retry budget, and another task of the same step ran attempt > k."""
    for t in failed_tasks:
        retry = ev.shape.decorators.get(t.step, {}).get("retry")
        if retry is None:
            continue
        times = retry.get("times", 3) if isinstance(retry.get("times", 3), int) else 3
        later = [o for o in ev.tasks if o.step == t.step and o.pathspec != t.pathspec and o.attempt > t.attempt]
        if t.attempt < times and later:
            return (f"step {t.step} (@retry times={times}) failed on attempt {t.attempt} of task {t.pathspec}, and attempt "
                    f"{later[0].attempt} ran as another task, {later[0].pathspec}: each retry made a new task")
    return ""


def _decospec_lost(ev: RunEvidence, failed_tasks: Sequence[TaskEvidence]) -> str:
    """Evidence that a deploy-time decorator did not reach the failed tasks ("" when none)."""
    names = {spec.split(":", 1)[0].strip() for spec in ev.decospecs}
    for t in failed_tasks:
        if "catch" in names and not t.caught:
            return f"step {t.step} failed and no @catch fired in it (last stderr line: {(tail(t.stderr, 1) or '(empty)').strip()[:200]!r})"
        if "retry" in names and t.attempt == 0:
            return f"step {t.step} failed on attempt 0 and was never retried"
    return ""


def diagnose_run(ev: RunEvidence) -> Optional[Diagnosis]:
    """Why a run did not end as expected (None when it did)."""
    for t in ev.tasks:
        # A crashed or killed attempt has no "finished" marker in the metadata: once the run is
        # over, or when its stderr ends in an error, it is a failed task, not a running one.
        if not t.finished and not t.successful and (ev.last_status in FAILED or TASK_CRASHED.search(t.stderr or "")):
            t.finished = True
    diag = _diagnose_run(ev)
    if diag is not None:
        diag.what += "\n" + _evidence(ev)
    return diag


def _diagnose_run(ev: RunEvidence) -> Optional[Diagnosis]:
    bad_id = id_problem(ev.run_id)
    if bad_id:
        return Diagnosis("O19", f"{bad_id}; trigger payload {ev.pathspec}", "prefix and sanitise run ids, e.g. '<engine>-<hex>'", "bad-run-id")
    if not ev.visible:
        if ev.elsewhere:
            return Diagnosis("O21", f"the tasks of run {ev.pathspec} wrote its data under {ev.elsewhere[0]}, not under the client's "
                             f"datastore root {ev.client_root or '(unknown)'}: the client never sees the run",
                             "never override METAFLOW_DATASTORE_SYSROOT_LOCAL (or the metadata root) for the tasks: pass the "
                             "deploying environment's roots through to every task", "data-elsewhere")
        if ev.other_runs:
            return Diagnosis("O2", f"the trigger payload names {ev.pathspec}, but this deployment's run is {ev.other_runs[0]!r}",
                             "write the run id the tasks use into the trigger pathspec", "other-run-id")
        last = ev.last_status
        seen = {s for s in ev.statuses}
        if last in FAILED:
            return _before_first_task(ev, f"ended {last}")
        if seen <= {None}:
            return Diagnosis("O2", f"neither the engine (status None) nor the client knows run {ev.pathspec} after {ev.elapsed:.0f} s",
                             "the trigger pathspec must name the run the engine started", "unknown-run")
        ended = next((line for line in ev.log_lines if ENGINE_FAILED_TEXT.search(line)), None)
        if seen <= {None, "PENDING"} and ended:
            # a worker did take the run: the engine's log naming it says it ended (Prefect: "Reported flow run
            # '<id>' as crashed") while the status, read from the Metaflow run alone, never left PENDING
            line = ended.strip()
            return _before_first_task(ev, f"was ended by the engine ({line if len(line) <= 240 else line[:239] + '…'}) "
                                          f"while its status stayed PENDING for {ev.elapsed:.0f} s")
        if seen <= {None, "PENDING"}:
            return Diagnosis("", f"nobody executed run {ev.pathspec}: it stayed PENDING for {ev.elapsed:.0f} s (is a worker running?)",
                             "start the engine's worker (devstack) for this task queue", "no-worker")
        if last == "SUCCEEDED":
            return Diagnosis("O21", f"the engine says run {ev.pathspec} SUCCEEDED, but the client sees no run of this deployment",
                             "tasks must write to the client's datastore and metadata roots (pass them at deploy time)", "succeeded-invisible")
        diag = _before_first_task(ev, f"stayed {last} for {ev.elapsed:.0f} s")
        if diag.kind == "init-failed":
            diag.pid = "O20,O21"
            diag.what += " (or the tasks write to another datastore/metadata root)"
        return diag
    failed_tasks = [t for t in ev.tasks if t.finished and not t.successful]
    running = [t for t in ev.tasks if not t.finished]
    last = ev.last_status
    if not ev.finished and last not in FAILED:
        if failed_tasks and not running:
            stopped = [t for t in failed_tasks if TIMEOUT_TEXT.search(t.stderr) or t.step in ev.shape.steps_with("timeout")]
            what = "a step stopped by its @timeout" if stopped else "tasks failed"
            return Diagnosis("O22", f"{what} ({', '.join(t.pathspec for t in failed_tasks)}) but the status stays {last!r} "
                             f"after {ev.elapsed:.0f} s", "map the engine's failure states to FAILED; a failed task must fail the run", "failed-but-running")
        if running:
            t = running[0]
            limit = ev.shape.decorators.get(t.step, {}).get("timeout")
            if limit is not None:
                spec = ", ".join(f"{k}={v}" for k, v in limit.items())
                stopped_by = next((line for line in [*t.stderr.splitlines(), *ev.log_lines] if ENGINE_TIMEOUT_TEXT.search(line)), None)
                if stopped_by is not None and last not in FAILED:
                    # the engine did stop it (its log says so): the task's Metaflow record never ended and
                    # the run's status never says FAILED, which is the status mapping's fault, not @timeout's
                    return Diagnosis("O22", f"the engine stopped step {t.step} ({t.pathspec}) at its @timeout({spec}), but the run's "
                                     f"status stays {last!r}: {stopped_by.strip()[:300]}",
                                     "map the engine's failure and timeout states to FAILED (ask the engine, not only the Metaflow run)",
                                     "timed-out-but-running")
                return Diagnosis("O17", f"step {t.step} ({t.pathspec}) still runs after {ev.elapsed:.0f} s, past its @timeout({spec})",
                                 "honour @timeout (seconds, minutes, hours): use get_run_time_limit_for_task()", "task-still-running")
            ended_by = next((line for line in ev.log_lines if ENGINE_FAILED_TEXT.search(line)), None)
            if ended_by is not None:
                # the engine ended it as failed (its log says so) while the Metaflow task never recorded its end
                # and the status never says FAILED: the status mapping's fault (O22), not a task still running
                return Diagnosis("O22", f"the engine ended run {ev.pathspec} (step {t.step}) as failed, but the Metaflow task never "
                                 f"recorded its end and the status stays {last!r} after {ev.elapsed:.0f} s: {ended_by.strip()[:300]}",
                                 "map the engine's failure states to FAILED (ask the engine, not only the Metaflow run)",
                                 "engine-failed-but-running")
            return Diagnosis("", f"run {ev.pathspec} did not finish within {ev.elapsed:.0f} s: step {t.step} is still running",
                             "see the worker log; raise --mfx-run-timeout on a slow machine", "task-still-running")
        if not ev.tasks:
            return _before_first_task(ev, f"stayed {last} for {ev.elapsed:.0f} s")
        steps = {t.step for t in ev.tasks}
        ran = [sw for sw in ev.shape.switches if sw in steps]
        if ran and ev.shape.end_step not in steps:
            sw = ran[-1]
            early = " while the status says SUCCEEDED" if last == "SUCCEEDED" else f" (status {last!r})"
            return Diagnosis("O25,O22" if last == "SUCCEEDED" else "O25",
                             f"run {ev.pathspec} stopped after split-switch {sw!r} (cases {ev.shape.switches[sw]}): no task failed, "
                             f"but {ev.shape.end_step!r} was never reached{early} (steps seen: {sorted(steps)})",
                             "run only the case the switch task chose (its _transition), and let the step after the cases run "
                             "when one case ran (the cases not chosen are skipped, not failed)", "stalled-after-switch")
        if ev.shape.end_step in steps:
            if last == "SUCCEEDED":
                return Diagnosis("O20", f"every task ended, status SUCCEEDED, but Run {ev.pathspec} never reports finished",
                                 "init must register the start/end step metadata (persist_constants)", "end-not-registered")
            return Diagnosis("O22", f"every task ended, but the status stays {last!r} after {ev.elapsed:.0f} s",
                             "map the engine's success state to SUCCEEDED", "status-stuck")
        if last == "SUCCEEDED":
            return Diagnosis("O22", f"status is SUCCEEDED but step {ev.shape.end_step!r} never ran (steps seen: {sorted(steps)})",
                             "report SUCCEEDED only once the end step succeeded", "succeeded-early")
        return Diagnosis("O18", f"run {ev.pathspec} stalled: no task runs and {ev.shape.end_step!r} was never reached (steps seen: {sorted(steps)})",
                         "schedule every successor of a finished step (see the worker log)", "stalled")
    if ev.successful or not ev.expect_success:
        return None
    # The run failed although it should have succeeded.
    retry_steps = {s for s, d in ev.shape.decorators.items() if "retry" in d and (d["retry"] or {}).get("times", 3) not in (0, None)}
    for t in ev.tasks:
        if t.caught and t.attempt == 0 and t.step in retry_steps:
            return Diagnosis("O16", f"@catch fired on attempt 0 of step {t.step}, which has @retry: the user code was never retried "
                             f"(the run then failed downstream)", "pass --max-user-code-retries = the @retry budget on every attempt", "catch-before-retry")
    renewed = _retry_as_new_task(ev, failed_tasks)
    if renewed:
        return Diagnosis("O15", renewed, "keep one task id per task across attempts; pass the attempt only as --retry-count", "retry-new-task")
    text = _from_text(ev)
    if text:
        return text
    lost = _decospec_lost(ev, failed_tasks)
    if lost:
        return Diagnosis("O28", f"deployed with --with {', '.join(ev.decospecs)}, but {lost}: the decorator never acted in the task",
                         "pass --with <spec> for every dynamically added decorator on each step command", "decospec-lost")
    if not ev.tasks:
        return _before_first_task(ev, f"ended {last}")
    if failed_tasks:
        t = failed_tasks[0]
        last_line = (tail(t.stderr, 1) or "(empty stderr)").strip()
        if ev.variation and ev.control == "succeeded":
            pids = ",".join(dict.fromkeys(p for p, _ in ev.variation))
            return Diagnosis(pids, f"step {t.step} failed ({last_line!r}) while a plain run succeeds; this deployment differs by: "
                             + "; ".join(w for _, w in ev.variation), "see the failed task's stderr", "variation")
        return Diagnosis("", f"step {t.step} of run {ev.pathspec} failed: {last_line}", "see the failed task's stderr", "task-failed")
    return Diagnosis("", f"run {ev.pathspec} ended {last!r} although none of its tasks failed", "see the worker log", "failed-without-task")


# -- compute backends -----------------------------------------------------------------------------

# Known texts in a backend run's launcher output or a failed task's stderr, and the pitfall each proves.
BACKEND_PATTERNS: Sequence[Tuple[str, str, str, str]] = (
    (
        r"NoCredentialsError|Unable to locate credentials|InvalidAccessKeyId|SignatureDoesNotMatch|certificate verify failed|CERTIFICATE_VERIFY_FAILED",
        "B11",
        "the job could not reach the datastore with the launcher's credentials",
        "forward AWS_*/cloud credentials, CA bundle and proxy variables into the job environment",
    ),
    (
        r"No such command",
        "B2",
        "the backend's CLI group is not registered the way the runtime calls it",
        "register the CLI group under the decorator's name with the vendored click",
    ),
    (
        r"[Nn]o such option:? '?--(clone-run-id|resume-identifier|ubf-context|split-index|retry-count|max-user-code-retries)",
        "B4",
        "the trampoline rejects an option Metaflow's runtime injects",
        "accept every option runtime_step_cli may add (pass them through to the inner step command)",
    ),
    (
        r"[Nn]o such option",
        "B3",
        "runtime_step_cli and the backend's CLI disagree on an option",
        "declare every option runtime_step_cli emits on the backend's CLI command",
    ),
    (
        r"CONFIG_PARAMETERS file|No module named 'metaflow_extensions",
        "B6",
        "the job runs outside the flow's code package (the installed Metaflow, without the package's files)",
        "download and unpack the code package with environment.get_package_commands and run the step from it",
    ),
    (
        r"Could not load expected configuration values",
        "B5",
        "the job's step command lost the flow's configs",
        "build the inner command from the outer context (util.dict_to_cli_options of the top-level params)",
    ),
)


def diagnose_backend_failure(
    what: str, output: str, task_errors: Sequence[Tuple[str, str]], candidates: str, fix: str = "", succeeded: Sequence[str] = ()
) -> Diagnosis:
    """A backend run that failed: a known error in a failed task's stderr or the launcher output names
    the pitfall; otherwise the ``candidates`` the failed scenario exercises, with the first task error."""
    sources = [(f"task {p} stderr", e) for p, e in task_errors] + [("launcher output", output)]
    for source, text in sources:
        for pattern, pid, meaning, pfix in BACKEND_PATTERNS:
            line = next((ln.strip() for ln in (text or "").splitlines() if re.search(pattern, ln)), None)
            if line:
                return Diagnosis(pid, f"{what}: {meaning}; the {source} says {line[:300]!r}", pfix, "known-error")
    silent = task_errors and not any((e or "").strip() for _, e in task_errors) and not re.search(r"Traceback|Error:|Exception", output or "")
    listed = candidates.split(",")
    paths = ", ".join(p for p, _ in task_errors)
    steps = [p.rsplit("/", 2)[-2] for p, _ in task_errors if p.count("/") >= 3]
    if silent and not succeeded and "B11" in listed:  # no job could write: the datastore is out of the jobs' reach
        return Diagnosis("B11", f"{what}: no task succeeded, and the failed task(s) {paths} left no logs in the datastore and no error text "
                         "anywhere: the jobs could not write to the datastore", "forward AWS_*/cloud credentials, CA bundle and proxy variables into the job environment", "no-logs")
    if silent and succeeded and "B7" in listed and len(steps) >= 2 and len(set(steps)) == 1:
        return Diagnosis("B7", f"{what}: earlier tasks succeeded, but the {len(steps)} tasks of step {steps[0]!r} that ran side by side failed "
                         f"without a word ({paths}): they share state on the worker", "give every attempt a fresh working directory", "siblings-clash")
    detail = ""
    if task_errors:
        path, err = task_errors[0]
        detail = f"; first failed task {path}: {(tail(err, 1) or '(empty stderr)').strip()[:300]}"
    return Diagnosis(candidates, f"{what} (no known error text in the evidence{detail})", fix, "candidates")


def diagnose_missing_artifact(step: str, name: str, present: Sequence[str]) -> Diagnosis:
    """A task of a successful run lacks an artifact its step sets."""
    if not present:
        return Diagnosis("B5", f"{step}: the task has no artifacts at all (looked for {name!r}): its step command wrote them elsewhere",
                         "build the inner step command from the outer context (util.dict_to_cli_options of the top-level params: "
                         "--datastore-root, --metadata, configs)", "no-artifacts")
    return Diagnosis("", f"{step}: the task has no artifact {name!r} (it has {list(present)})", "see the task's stderr", "missing-artifact")
