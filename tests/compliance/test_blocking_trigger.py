"""A trigger that blocks until its run ends (O24): the tests behind it still check their run.

The extension here is a small, real, subprocess-based toy orchestrator: its ``trigger`` starts a
CLI process (through Metaflow's own SubprocessManager) that runs the "job" to its end and only
then writes the Deployer attribute file (Metaflow's own FIFO and ``handle_timeout``, bounded by
the Deployer's ``file_read_timeout``), as metaflow-dagster 0.3.7 does. The job records the run's
state in a file: that file is the toy engine, read by the toy TriggeredRun's ``status`` / ``run``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, List

import pytest
from mfx.compliance import diagnose as dx
from mfx.compliance import harness
from mfx.compliance.runspec import Spec

# The toy trigger CLI: argv = attribute fifo, state file, job seconds, job outcome.
TOY_CLI = r'''
import json, sys, time
fifo, state, seconds, outcome = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
run_id = "toy-" + str(time.time_ns())
with open(state, "a") as fh:
    fh.write(json.dumps({"run": run_id, "status": "RUNNING"}) + "\n")
time.sleep(seconds)  # the job, run in the trigger's own process
with open(state, "a") as fh:
    fh.write(json.dumps({"run": run_id, "status": outcome}) + "\n")
try:
    with open(fifo, "w") as fh:  # only now: the payload a non-blocking trigger writes at once
        fh.write(json.dumps({"name": "toy", "metadata": "local@toy", "pathspec": "MfxLinearFlow/" + run_id}))
except OSError:
    pass  # the reader gave up (the attribute-file bound) and removed the fifo
'''


class ToyRun:
    def __init__(self, status: str) -> None:
        self.finished = status in ("SUCCEEDED", "FAILED")
        self.successful = status == "SUCCEEDED"


class ToyTriggered:
    def __init__(self, pathspec: str, state: Path) -> None:
        self.pathspec, self._state = pathspec, state

    def _last(self) -> str:
        run_id = self.pathspec.split("/", 1)[1]
        states = [json.loads(line) for line in self._state.read_text().splitlines()]
        return [s["status"] for s in states if s["run"] == run_id][-1]

    @property
    def status(self) -> str:
        return self._last()

    @property
    def run(self) -> ToyRun:
        return ToyRun(self._last())


class ToyDeployer:
    """The DeployerImpl side: ``spm`` (Metaflow's SubprocessManager) and the attribute-file bound."""

    def __init__(self, tmp: Path, job_seconds: float, outcome: str, bound: float) -> None:
        from metaflow.runner.subprocess_manager import SubprocessManager

        self.spm = SubprocessManager()
        self.file_read_timeout = bound
        self.cli = tmp / "toy_cli.py"
        self.cli.write_text(TOY_CLI)
        self.state = tmp / "engine-state.jsonl"
        self.state.touch()
        self.job_seconds, self.outcome = job_seconds, outcome

    def create(self, **_: Any) -> "ToyDeployed":
        return ToyDeployed(self)


class ToyDeployed:
    name = "toy"
    flow_name = "MfxLinearFlow"

    def __init__(self, deployer: ToyDeployer) -> None:
        self.deployer = deployer

    def trigger(self, **_: Any) -> ToyTriggered:
        from metaflow.runner.utils import handle_timeout, temporary_fifo

        d = self.deployer
        with temporary_fifo() as (path, fd):
            pid = d.spm.run_command([sys.executable, str(d.cli), path, str(d.state), str(d.job_seconds), d.outcome, "trigger"], show_output=False)
            content = handle_timeout(fd, d.spm.get(pid), d.file_read_timeout)
        return ToyTriggered(json.loads(content)["pathspec"], d.state)


@pytest.fixture
def toy(monkeypatch, tmp_path):
    """make(job_seconds, outcome, bound, run_timeout) -> a Harness bound to a fresh toy engine."""
    made: List[ToyDeployer] = []
    monkeypatch.setattr(dx, "LONG_TRIGGER", 0.5)
    monkeypatch.setattr(harness, "RUN_LOOKUP_GRACE", 0.0)
    monkeypatch.setattr(harness, "POLL", 0.2)

    def make(job_seconds: float, outcome: str = "SUCCEEDED", bound: float = 1.0, run_timeout: float = 60.0) -> harness.Harness:
        deployer = ToyDeployer(tmp_path, job_seconds, outcome, bound)
        made.append(deployer)
        engine = SimpleNamespace(run_timeout=run_timeout, state_dir=str(tmp_path), timings=[], progress=None, current=None,
                                 config=SimpleNamespace(deploy_args={}, deployer_method="toy", deployer_options={}, plugin="toy"))
        h = harness.Harness(engine, "orchestrator")  # type: ignore[arg-type]
        monkeypatch.setattr(h, "deployer", lambda flow, env=None, **kw: deployer)
        monkeypatch.setattr(h, "_runs_of", lambda deployed, context, since=0.0: [])
        return h

    yield make
    for deployer in made:  # the toy CLIs this test started (still running only when a test gave up on them)
        for command in list(deployer.spm.commands.values()):
            if command.process.poll() is None:
                command.process.kill()
                command.process.wait()


LINEAR = Spec("linear", "linear", "linear_flow")
BRANCH = Spec("branch", "branch", "linear_flow")
ASYNC = Spec("async", "trigger-async", "linear_flow")


def test_runs_behind_a_blocking_trigger_are_checked_on_their_own(toy) -> None:
    h = toy(job_seconds=3.0)
    left = h.prefetch([LINEAR, BRANCH])
    # the first trigger was cut at the attribute-file bound with its CLI still running: O24, and the
    # prefetch stops there (each further trigger would run a whole job inside the first test's setup)
    assert left == ["branch"]
    assert h.blocking is not None and "O24" in h.blocking.pids and str(h.blocking).startswith("[O24 ")
    first_cli = list(h.handles["linear"].deployed.deployer.spm.commands.values())[0].process
    h.current = {"linear"}
    handle = h.finish(LINEAR)
    assert first_cli.poll() is not None, "the blocked trigger's job was waited for before the next trigger"
    assert handle.relaunched and handle.outcome is not None and handle.succeeded
    assert handle.trigger_seconds >= 2.5, "the second trigger waited for its run instead of giving up at the bound"
    h.current = {"branch"}
    other = h.finish(BRANCH)
    assert other.succeeded and not other.relaunched
    assert not h.blocking_gave_up


def test_the_trigger_async_test_keeps_its_o24(toy) -> None:
    h = toy(job_seconds=2.0)
    h.prefetch([ASYNC])
    h.current = {"trigger-async"}
    with pytest.raises(AssertionError) as info:
        h.finish(ASYNC)
    assert str(info.value).startswith("[O24 ") and not h.handles["async"].relaunched


def test_a_failure_behind_a_blocking_trigger_names_its_own_cause_and_says_the_trigger_blocked(toy, monkeypatch) -> None:
    h = toy(job_seconds=2.0, outcome="FAILED")
    own = harness._raise(dx.Diagnosis("O18", "the run failed", "", "run-failed"))
    monkeypatch.setattr(h, "run_evidence", lambda *a, **kw: None)
    monkeypatch.setattr(dx, "diagnose_run", lambda ev: dx.Diagnosis("O18", "the run failed", "", "run-failed"))
    h.prefetch([LINEAR])
    h.current = {"linear"}
    with pytest.raises(AssertionError) as info:
        h.finish(LINEAR)
    text = str(info.value)
    assert text.startswith(str(own).splitlines()[0]), text  # the headline is the run's own cause
    assert "blocked for" in text and "O24" in text and info.value.pids == ["O18"]
    h.current = {"tags"}  # another test of the same run: "blocked by linear", the note kept once
    with pytest.raises(AssertionError) as again:
        h.finish(LINEAR)
    assert str(again.value).startswith("blocked by linear (run 'linear'): [O18 ") and str(again.value).count("blocked for") == 1


def test_a_trigger_that_never_returns_is_o24_within_the_run_budget(toy) -> None:
    h = toy(job_seconds=120.0, run_timeout=3.0)
    started = time.monotonic()
    third = Spec("third", "tags", "linear_flow")
    h.prefetch([LINEAR, BRANCH, third])
    h.current = {"linear"}
    with pytest.raises(AssertionError) as info:
        h.finish(LINEAR)
    # one trigger that did not return within a whole run budget may be one slow run: the next still waits
    assert str(info.value).startswith("[O24 ") and not h.blocking_gave_up
    assert h.handles["linear"].trigger_seconds == 0.0 and h.handles["linear"].relaunched
    h.current = {"branch"}
    with pytest.raises(AssertionError) as other:
        h.finish(BRANCH)
    assert str(other.value).startswith("[O24 ") and h.blocking_gave_up  # two in a row: no more waiting
    h.current = {"tags"}
    before = time.monotonic()
    with pytest.raises(AssertionError) as last:
        h.finish(third)  # cut at the short bound again
    assert str(last.value).startswith("[O24 ") and time.monotonic() - before < 20
    assert time.monotonic() - started < 60, "bounded: a run budget per waiting trigger, then the short bound"


# -- a create cut at its bound on a loaded machine --------------------------------------------------

# The toy create CLI: argv = "create --deployer-attribute-file" <fifo>, seconds before it answers, how it ends ("ok" or "error").
TOY_CREATE = r'''
import json, sys, time
fifo, seconds, end = sys.argv[3], float(sys.argv[4]), sys.argv[5]
time.sleep(seconds)  # compiling, slowly (a loaded machine)
if end == "error":
    raise SystemExit("the toy engine refused the deployment")
with open(fifo, "w") as fh:  # fails (No such file or directory) once the Deployer gave up and removed it
    fh.write(json.dumps({"name": "toy", "flow_name": "MfxLinearFlow", "metadata": "local@toy"}))
'''


class ToyCreate:
    """The DeployerImpl side of create: a real CLI process (Metaflow's SubprocessManager) writing the
    attribute file after ``seconds``, read with Metaflow's own FIFO and bound (``file_read_timeout``)."""

    def __init__(self, tmp: Path, seconds: float, end: str, calls: list) -> None:
        from metaflow.runner.subprocess_manager import SubprocessManager

        self.spm = SubprocessManager()
        self.file_read_timeout = round(harness.create_timeout())  # as Harness.deployer gives the Deployer
        self.cli = tmp / "toy_create.py"
        self.cli.write_text(TOY_CREATE)
        self.seconds, self.end, self.calls = seconds, end, calls

    def create(self, **_: Any) -> SimpleNamespace:
        from metaflow.runner.utils import handle_timeout, temporary_fifo

        self.calls.append(self.file_read_timeout)
        with temporary_fifo() as (path, fd):
            pid = self.spm.run_command([sys.executable, str(self.cli), "create", "--deployer-attribute-file", path, str(self.seconds), self.end],
                                       show_output=False)
            content = handle_timeout(fd, self.spm.get(pid), self.file_read_timeout)
        return SimpleNamespace(**json.loads(content))


@pytest.fixture
def slow_create(monkeypatch, tmp_path):
    """make(seconds, end) -> (Harness whose create runs the toy create CLI, the bounds of its calls)."""
    monkeypatch.setattr(harness, "CREATE_TIMEOUT", 2.0)
    monkeypatch.setattr(harness, "STARTUP_PROBE", [sys.executable, "-c", "pass"])
    monkeypatch.setattr(harness, "_STARTUP", [0.0])
    monkeypatch.setattr(harness, "starved", lambda limit: False)  # the machine's start-up is not what is varied here
    monkeypatch.setattr(harness, "command_line", lambda impl, name: "toy create")
    made: List[ToyCreate] = []

    def make(seconds: float, end: str = "ok"):
        calls: list = []
        h = harness.Harness(SimpleNamespace(state_dir=str(tmp_path)), "orchestrator")  # type: ignore[arg-type]

        def deployer(flow, env=None, **kw):
            made.append(ToyCreate(tmp_path, seconds, end, calls))
            return made[-1]

        monkeypatch.setattr(h, "deployer", deployer)
        monkeypatch.setattr(h, "create_args", lambda tags: {})
        return h, calls

    yield make
    for impl in made:
        for command in list(impl.spm.commands.values()):
            if command.process.poll() is None:
                command.process.kill()
                command.process.wait()


def test_a_create_that_answers_after_its_bound_is_tried_once_more_with_a_bound_that_covers_it(slow_create) -> None:
    h, calls = slow_create(seconds=4.0)
    deployed = h.create("linear_flow")
    assert deployed.name == "toy"
    assert len(calls) == 2 and calls[0] == 2 and calls[1] >= 5, calls


def test_a_create_that_never_answers_is_o1_within_three_times_its_bound(slow_create) -> None:
    h, calls = slow_create(seconds=60.0)
    started = time.monotonic()
    with pytest.raises(AssertionError) as info:
        h.create("linear_flow")
    assert str(info.value).startswith("[O1 ") and len(calls) == 1
    assert time.monotonic() - started < 20


def test_a_create_that_fails_after_its_bound_is_not_retried(slow_create) -> None:
    h, calls = slow_create(seconds=3.0, end="error")
    with pytest.raises(AssertionError) as info:
        h.create("linear_flow")
    assert str(info.value).startswith("[O1 ") and len(calls) == 1


# -- from_deployment gets the identifier Metaflow's own test/ux passes ---------------------------


def test_from_deployment_is_given_the_deployers_name_not_the_display_name(monkeypatch) -> None:
    """Seen on metaflow-dagster 0.3.7: create writes a JSON identifier as the deployment's name (deployer.name,
    what upstream test/ux hands to from_deployment), and its DeployedFlow shows the job name as ``.name``; the
    suite passed ``.name`` and reported O23 ('Invalid Dagster deployment identifier') for a working round trip."""
    from metaflow.runner.deployer import DeployedFlow

    identifier = json.dumps({"name": "job", "flow_name": "MfxRoundtripFlow", "flow_file": "f.py"})

    class ShortNamed(DeployedFlow):  # a real DeployedFlow subclass, shaped like metaflow-dagster's
        TYPE = "toy"

        def __init__(self, deployer: Any) -> None:
            super().__init__(deployer=deployer)
            self.name = json.loads(self.name)["name"]

    recovered_with: List[str] = []

    def from_deployment(cls: Any, ident: str, metadata: Any = None, impl: str = "") -> ShortNamed:
        info = json.loads(ident)  # like the provider: anything but its JSON identifier is refused
        recovered_with.append(ident)
        return ShortNamed(SimpleNamespace(name=ident, flow_name=info["flow_name"], metadata=None))

    monkeypatch.setattr(DeployedFlow, "from_deployment", classmethod(from_deployment))
    engine = SimpleNamespace(run_timeout=60.0, state_dir=".", timings=[], progress=None, current=None,
                             config=SimpleNamespace(deploy_args={}, deployer_method="toy", deployer_options={}, plugin="toy"))
    h = harness.Harness(engine, "orchestrator")  # type: ignore[arg-type]
    deployed = ShortNamed(SimpleNamespace(name=identifier, flow_name="MfxRoundtripFlow", metadata=None))
    assert deployed.name == "job" and harness.deployment_identifier(deployed) == identifier
    recovered = h.recover(deployed)
    assert recovered_with == [identifier] and recovered.name == deployed.name and recovered.flow_name == "MfxRoundtripFlow"
    # a provider whose identifier is its name (Argo, the presets): the same value either way
    plain = SimpleNamespace(name="mfx.test.Flow", deployer=SimpleNamespace(name="mfx.test.Flow"))
    assert harness.deployment_identifier(plain) == "mfx.test.Flow"
    # a refused identifier is still O23, naming what was passed
    monkeypatch.setattr(DeployedFlow, "from_deployment", classmethod(lambda cls, ident, metadata=None, impl="": json.loads("not json")))
    with pytest.raises(Exception) as caught:
        h.recover(deployed)
    assert "O23" in str(caught.value) and "flow_name" in str(caught.value)


def test_a_recovered_deployment_that_cannot_be_triggered_is_o23(monkeypatch) -> None:
    """Seen on metaflow-dagster 0.3.7 once from_deployment got its identifier: the recovered deployer re-read the
    flow without the deployment's config (job 'mfx_rt_default_...' instead of 'mfx_rt_override_...') and its
    trigger failed; the headline said '[no known pitfall] the trigger CLI failed'. Triggering is what the
    created deployment passes elsewhere: here the recovery is what broke it."""
    from metaflow.runner.deployer import DeployedFlow

    class Unrunnable:
        name, flow_name = "job", "MfxRoundtripFlow"
        deployer = SimpleNamespace(name="job")

        def trigger(self, **_: Any) -> Any:
            raise RuntimeError("DagsterInvariantViolationError: mfx_rt_default_MfxRoundtripFlow not found")

    monkeypatch.setattr(DeployedFlow, "from_deployment", classmethod(lambda cls, ident, metadata=None, impl="": Unrunnable()))
    engine = SimpleNamespace(run_timeout=60.0, state_dir=".", timings=[], progress=None, current=None,
                             config=SimpleNamespace(deploy_args={}, deployer_method="toy", deployer_options={}, plugin="toy"))
    h = harness.Harness(engine, "orchestrator")  # type: ignore[arg-type]
    monkeypatch.setattr(h, "_runs_of", lambda deployed, context, since=0.0: [])
    recovered = h.recover(Unrunnable())
    with pytest.raises(AssertionError) as caught:
        h.trigger(recovered, label="x")
    assert str(caught.value).startswith("[O23 ") and "recovered by from_deployment" in str(caught.value) and "mfx_rt_default" in str(caught.value)
    # adversarial: the same failure of a deployment create() returned names no recovery
    with pytest.raises(AssertionError) as plain:
        h.trigger(Unrunnable(), label="x")
    assert "O23" not in str(plain.value) and "recovered" not in str(plain.value)


def test_the_evidence_of_an_exited_cli_waits_for_metaflows_log_copying_threads(tmp_path) -> None:
    """Seen on metaflow-dagster 0.3.7 (switch flow): the trigger CLI exited 1, and the harness read its stderr
    file as empty, because Metaflow's CommandManager copies the output through a buffered file from a thread
    that had not closed it yet (pytest had already shown the same output); the headline named no pitfall."""
    from metaflow.runner.subprocess_manager import SubprocessManager

    script = tmp_path / "cli.py"
    script.write_text("import sys, time\nsys.stderr.write('Core compute for op returned an output that does not exist\\n')\n"
                      "sys.stderr.flush()\nsys.exit(1)\n")
    spm = SubprocessManager()
    pid = spm.run_command([sys.executable, str(script), "trigger"], show_output=False)
    command = spm.get(pid)
    command.process.wait()
    command.stderr_thread.join()
    # the copying thread lags, as under load: the file is still empty when the process has exited
    log = command.log_files["stderr"]
    text = open(log).read()
    open(log, "w").close()

    def copy_late() -> None:
        time.sleep(0.5)
        with open(log, "w") as fh:
            fh.write(text)

    command.stderr_thread = threading.Thread(target=copy_late)
    command.stderr_thread.start()
    evidence = harness.last_command(SimpleNamespace(spm=spm), "trigger")
    assert evidence is not None and evidence.returncode == 1
    assert "does not exist" in evidence.stderr
    spm.cleanup()
