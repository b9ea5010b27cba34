"""The root-cause diagnosis of failed triggers and runs, over recorded evidence shapes (no engine).

Each case is the evidence a real failure leaves (CLI exit status and stderr, statuses seen, the
client's runs and tasks, devstack log lines, what the deployment varies) and the pitfall the
headline must name. Adversarial pairs check that the same symptom ("run never became visible",
"run failed", "trigger failed") gets different causes from different evidence.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from mfx.compliance import diagnose as dx
from mfx.compliance.expect import ComplianceFailure
from mfx.compliance.harness import Context, _raise, devstack_log_lines, variation
from mutations.mutants import headline_of, headlines_from_junit, names_pitfall

FLOWS = Path(dx.__file__).resolve().parent / "flows" / "orchestrator"


def shape(name: str) -> dx.FlowShape:
    return dx.flow_shape((FLOWS / f"{name}.py").read_text())


def headline(diag: dx.Diagnosis) -> str:
    """The first line of the failure message the suite raises for ``diag``."""
    return str(_raise(diag)).splitlines()[0]


def pids(diag: dx.Diagnosis) -> list:
    return [p for p in diag.pid.split(",") if p]


def task(step: str, ok: bool = True, finished: bool = True, stderr: str = "", attempt: int = 0, caught: bool = False) -> dx.TaskEvidence:
    return dx.TaskEvidence(f"F/r-1/{step}/1", step, finished, ok, attempt, stderr, "", caught)


def run_ev(**kw) -> dx.RunEvidence:
    kw.setdefault("pathspec", "F/temporal-abc123")
    kw.setdefault("statuses", ["RUNNING"])
    kw.setdefault("elapsed", 42.0)
    kw.setdefault("visible", True)
    return dx.RunEvidence(**kw)


# -- flow shapes -----------------------------------------------------------------------------


def test_flow_shape_reads_custom_endpoints_and_decorators() -> None:
    assert (shape("custom_names_flow").start_step, shape("custom_names_flow").end_step) == ("begin", "finish")
    single = shape("single_step_flow")
    assert single.start_step == single.end_step == "only"
    linear = shape("linear_flow")
    assert (linear.start_step, linear.end_step) == ("start", "end")
    catch = shape("catch_flow")
    assert catch.decorators["flaky"]["retry"]["times"] == 1 and "catch" in catch.decorators["doomed"]
    assert shape("timeout_minutes_flow").decorators["start"]["timeout"] == {"minutes": 1}
    assert dx.flow_shape("def broken(:\n").start_step == "start"


# -- trigger ---------------------------------------------------------------------------------


def trig(**kw) -> dx.TriggerEvidence:
    kw.setdefault("flow", "sleep_flow")
    kw.setdefault("params", {})
    kw.setdefault("error", "MetaflowException: Error triggering x on temporal for flow.py")
    kw.setdefault("seconds", 3.0)
    return dx.TriggerEvidence(**kw)


def test_trigger_that_waited_for_the_run_is_o24_even_when_the_body_says_engine_silent() -> None:
    cmd = dx.CommandEvidence("temporal trigger", 1, stderr="Trigger failed: engine query 'start' did not answer within 30 s")
    diag = dx.diagnose_trigger(trig(params={"seconds": 60}, seconds=31.0, command=cmd, started_runs=["temporal-1"]))
    assert pids(diag) == ["O24"]
    assert "exited 1" in diag.what and "did not answer" in diag.what


def test_engine_silent_without_a_started_run_is_not_blamed_on_a_pitfall() -> None:
    cmd = dx.CommandEvidence("temporal trigger", 1, stderr="engine query 'start' did not answer within 30 s")
    diag = dx.diagnose_trigger(trig(params={"seconds": 60}, seconds=31.0, command=cmd))
    assert pids(diag) == [] and diag.kind == "trigger-engine-silent"
    assert "O7" not in headline(diag) and "O24" not in headline(diag)


def test_crash_at_interpreter_exit_after_start_is_not_a_parameter_pitfall() -> None:
    stderr = "Run started.\nFatal Python error: PyGILState_Release: thread state must be current when releasing\nAborted"
    diag = dx.diagnose_trigger(trig(params={"alpha": 1}, command=dx.CommandEvidence("x trigger", -6, stderr=stderr), started_runs=["x-1"]))
    assert diag.kind == "trigger-crashed-at-exit"
    assert not {"O7", "O8", "O9"} & set(pids(diag))
    assert "os._exit" in diag.fix


def test_trigger_without_parameters_is_never_blamed_on_parameters() -> None:
    for stderr in ("Traceback ...\nKeyError: 'name'", "no such option: --alpha", "Invalid value for '--x'"):
        diag = dx.diagnose_trigger(trig(params={}, command=dx.CommandEvidence("x trigger", 2, stderr=stderr)))
        assert not {"O7", "O8", "O9"} & set(pids(diag)), (stderr, diag)


def test_parameters_rejected_by_the_deployer_or_the_cli_are_o7() -> None:
    early = dx.diagnose_trigger(trig(params={"route": "low"}, error="ValueError: Unknown argument: 'route', possible args are: ['run_id_file']"))
    assert pids(early) == ["O7"]
    cli = dx.diagnose_trigger(trig(params={"route": "low"}, command=dx.CommandEvidence("x trigger", 2, stderr="Error: No such option: --route")))
    assert pids(cli) == ["O7"]
    other = dx.diagnose_trigger(trig(params={"route": "low"}, command=dx.CommandEvidence("x trigger", 2, stderr="Error: No such option: --verbose")))
    assert "O7" not in pids(other)


def test_tuple_for_multi_value_option_is_o8() -> None:
    diag = dx.diagnose_trigger(trig(params={"a": 1, "b": 2}, error="TypeError: Invalid type for 'run_params', expected Tuple[str]"))
    assert pids(diag) == ["O8"]


def test_cli_that_hangs_without_payload_is_o24_when_long_else_o2() -> None:
    assert pids(dx.diagnose_trigger(trig(seconds=60.0, command=dx.CommandEvidence("x trigger", None)))) == ["O24"]
    assert pids(dx.diagnose_trigger(trig(seconds=2.0, command=dx.CommandEvidence("x trigger", 0)))) == ["O2"]


def test_trigger_that_ran_the_tasks_and_failed_with_the_run_is_o24() -> None:
    """Seen on metaflow-dagster: trigger executes the job in its own process; on a flow whose step fails the
    CLI exits 1 with the step's traceback, so the run's FAILED status can never be observed."""
    stderr = ('  File ".../metaflow/cli_components/step_cmd.py", line 171, in step\n    task.run_step(\n'
              "  File \"fail_flow.py\", line 20, in boom\nRuntimeError: mfx-intentional-failure")
    diag = dx.diagnose_trigger(trig(flow="fail_flow", seconds=111.0, command=dx.CommandEvidence("dagster trigger", 1, stderr=stderr)))
    assert pids(diag) == ["O24"] and diag.kind == "trigger-ran-the-run"
    # adversarial: a trigger CLI that fails on its own (no task ran in it) is not O24
    own = dx.diagnose_trigger(trig(seconds=40.0, command=dx.CommandEvidence("x trigger", 1, stderr="Traceback ...\nKeyError: 'name'")))
    assert "O24" not in pids(own)


def test_trigger_that_ran_a_run_which_a_dynamic_catch_should_have_saved_is_o28_not_o24() -> None:
    """Seen on metaflow-flyte: deployed with --with catch (Deployer decospecs), its trigger ran the run in its
    own process and exited 1 with the step's traceback. The run should have succeeded: the first cause is the
    @catch that never reached the step command (O28), not that trigger() ran the run (O24)."""
    stderr = ('  File ".../metaflow/cli_components/step_cmd.py", line 171, in step\n    task.run_step(\n'
              '  File "always_fails_flow.py", line 18, in boom\nRuntimeError: Intentional failure: only a dynamic @catch gets past this')
    cmd = dx.CommandEvidence("flyte trigger", 1, stderr=stderr)
    diag = dx.diagnose_trigger(trig(flow="always_fails_flow", seconds=13.0, command=cmd, decospecs=["catch:var=dynamic_error"]))
    assert pids(diag) == ["O28"] and diag.kind == "decospec-lost" and "--with catch:var=dynamic_error" in diag.what
    # adversarial: a decorator that may rightly let the run fail (retry) or none at all: still O24
    for decospecs in (["retry:times=1"], []):
        other = dx.diagnose_trigger(trig(flow="always_fails_flow", seconds=13.0, command=cmd, decospecs=decospecs))
        assert pids(other) == ["O24"] and other.kind == "trigger-ran-the-run", decospecs
    # a trigger CLI that failed on its own (no task ran in it) is not blamed on the decorator
    own = dx.diagnose_trigger(trig(command=dx.CommandEvidence("x trigger", 1, stderr="Traceback ...\nKeyError: 'name'"), decospecs=["catch"]))
    assert "O28" not in pids(own)
    # the @catch did act (Metaflow logs it with the caught traceback) and the run failed for another reason: not O28
    acted = dx.CommandEvidence("flyte trigger", 1, stderr="@catch caught an exception from MfxAlwaysFailsFlow\n" + stderr)
    caught = dx.diagnose_trigger(trig(flow="always_fails_flow", seconds=13.0, command=acted, decospecs=["catch:var=dynamic_error"]))
    assert "O28" not in pids(caught)


def test_trigger_that_ran_a_run_whose_retry_step_was_never_retried_names_the_missing_retry_not_o24() -> None:
    """Seen on metaflow-flyte: its trigger runs the workflow with local `pyflyte run`, which does not retry a failed
    task, so the step under @retry failed on its first attempt and ended the run (and trigger()). The run should have
    succeeded: the first cause is the retry that never happened, not that trigger() ran the run (O24)."""
    def stderr(step: str, times: int = 1) -> str:
        one = ('  File ".../metaflow/cli_components/step_cmd.py", line 171, in step\n    task.run_step(\n'
               f'  File "mfx-flows-x/flows/orchestrator/retry_flow.py", line 16, in {step}\n'
               '    raise RuntimeError("Intentional first-attempt failure")\nRuntimeError: Intentional first-attempt failure\n')
        return one * times
    shape = dx.flow_shape(FLOWS.joinpath("retry_flow.py").read_text())
    cmd = dx.CommandEvidence("flyte trigger", 1, stderr=stderr("flaky"))
    diag = dx.diagnose_trigger(trig(flow="retry_flow", seconds=14.0, command=cmd, shape=shape))
    assert pids(diag) == [] and diag.kind == "retry-not-performed"
    assert "step flaky has @retry(times=2)" in diag.what and "1 attempt(s) of 3" in diag.what
    # adversarial: every attempt failed (the budget was used): the run may rightly fail, O24 stays
    spent = dx.diagnose_trigger(trig(flow="retry_flow", seconds=14.0, command=dx.CommandEvidence("flyte trigger", 1, stderr=stderr("flaky", 3)), shape=shape))
    assert pids(spent) == ["O24"]
    # a failing step without @retry, or no shape known: O24
    plain = dx.diagnose_trigger(trig(flow="retry_flow", seconds=14.0, command=dx.CommandEvidence("flyte trigger", 1, stderr=stderr("start")), shape=shape))
    assert pids(plain) == ["O24"]
    assert pids(dx.diagnose_trigger(trig(flow="retry_flow", seconds=14.0, command=cmd))) == ["O24"]
    # the frame must be the flow's own file (a step of another file with the same name is not evidence)
    other = cmd.stderr.replace("retry_flow.py", "elsewhere.py")
    assert pids(dx.diagnose_trigger(trig(flow="retry_flow", command=dx.CommandEvidence("flyte trigger", 1, stderr=other), shape=shape))) == ["O24"]

def _ran_the_run_stderr(step_command: str) -> str:
    """A trigger CLI that ran the job itself (metaflow-dagster 0.3.7): the engine logs the step command, the
    task's traceback follows, then many lines of the engine's and the CLI's own traceback (the tail)."""
    own = "\n".join(f'  File ".../metaflow/_vendor/click/core.py", line {n}, in invoke\n    return f(...)' for n in range(20))
    return (f"dagster - INFO - op_boom - $ {step_command}\n"
            "dagster - INFO - op_boom - <flow MfxAlwaysFailsFlow step boom> failed:\n    Internal error\n"
            '  File ".../metaflow/cli_components/step_cmd.py", line 171, in step\n    task.run_step(\n'
            '  File "always_fails_flow.py", line 18, in boom\nRuntimeError: Intentional failure\n'
            f"Traceback (most recent call last):\n{own}\nDagster error:\n    Dagster job 'MfxAlwaysFailsFlow' failed.")


def test_trigger_that_ran_the_tasks_is_o24_when_the_task_traceback_is_above_the_tail() -> None:
    """Seen on metaflow-dagster: the step's traceback came 150 lines before the end of the trigger's stderr;
    only the CLI's own click traceback was in the tail, and the headline said '[no known pitfall]'."""
    stderr = _ran_the_run_stderr("/v/bin/python /f/fail_flow.py --quiet --no-pylint step boom --run-id dagster-1 --task-id 1")
    assert "step_cmd.py" not in dx.tail(stderr), "the shape under test: the task's traceback is above the tail"
    diag = dx.diagnose_trigger(trig(flow="fail_flow", seconds=70.0, command=dx.CommandEvidence("dagster trigger", 1, stderr=stderr)))
    assert pids(diag) == ["O24"] and diag.kind == "trigger-ran-the-run"


def test_trigger_that_ran_tasks_without_the_deployments_with_decorator_is_o28() -> None:
    """Seen on metaflow-dagster: Deployer(decospecs=['catch:...']) compiled the job, but the step commands the
    engine ran had no --with catch, so the step's exception failed the job inside trigger: O28 first (the run
    should have succeeded), the trigger that ran the job (O24) named in the message."""
    command = ("/v/bin/python /f/always_fails_flow.py --quiet --no-pylint --metadata=local --datastore=local step boom "
               "--run-id dagster-02f0 --task-id 1 --input-paths dagster-02f0/start/1 --retry-count 0")
    stderr = _ran_the_run_stderr(command)
    diag = dx.diagnose_trigger(trig(flow="always_fails_flow", seconds=43.0, decospecs=["catch:var=dynamic_error"],
                                    command=dx.CommandEvidence("dagster trigger", 1, stderr=stderr)))
    assert pids(diag) == ["O28"] and "(O24)" in diag.what, "the first cause is named; the blocking trigger is in the evidence"
    assert "command of step boom lacks it" in diag.what and "--with catch" in diag.what
    # no step command logged: a task's exception that failed the run despite --with catch is the evidence
    bare = stderr.replace(f"$ {command}", "starting op_boom")
    assert pids(dx.diagnose_trigger(trig(seconds=43.0, decospecs=["catch:var=x"], command=dx.CommandEvidence("t", 1, stderr=bare))))[0] == "O28"
    # adversarial: the step command does carry the decorator (it failed for another reason), or none was added
    carried = _ran_the_run_stderr(command.replace("--quiet", "--quiet --with=catch:var=dynamic_error"))
    caught = dx.diagnose_trigger(trig(seconds=43.0, decospecs=["catch:var=x"], command=dx.CommandEvidence("t", 1, stderr=carried)))
    assert pids(caught)[0] == "O28" and "lacks it" not in caught.what and "did not act" in caught.what, "carried, yet no catch acted"
    other = dx.diagnose_trigger(trig(seconds=43.0, decospecs=["retry:times=1"], command=dx.CommandEvidence("t", 1, stderr=carried.replace("catch", "retry"))))
    assert pids(other) == ["O24"], "a step command with --with retry: the decorator reached it"
    plain = dx.diagnose_trigger(trig(seconds=43.0, command=dx.CommandEvidence("t", 1, stderr=stderr)))
    assert pids(plain) == ["O24"], "no deploy-time decorator: only O24"


SWITCH_FLOW = """
class F(FlowSpec):
    @step
    def start(self):
        self.next({"high": self.high, "low": self.low}, condition="choice")
"""


def test_trigger_failing_at_the_switch_naming_its_cases_is_o25() -> None:
    """Seen on metaflow-dagster 0.3.7: the op of the switch step returned the output "['low']" (Metaflow's
    _transition holds a list of next steps) and Dagster failed the job in trigger; the headline said
    '[no known pitfall] the trigger CLI failed'."""
    stderr = ("Traceback (most recent call last):\n  File \".../execute_step.py\", line 192\n"
              "dagster._core.errors.DagsterInvariantViolationError: Core compute for op \"op_start\" returned an output "
              "\"['low']\" that does not exist. The available outputs are ['high', 'low']\n")
    shape = dx.flow_shape(SWITCH_FLOW)
    diag = dx.diagnose_trigger(trig(flow="switch_flow", params={"route": "low"}, seconds=28.0, shape=shape,
                                    command=dx.CommandEvidence("dagster trigger", 1, stderr=stderr)))
    assert pids(diag) == ["O25"] and "switch step 'start'" in diag.what and "available outputs" in diag.what
    # adversarial: an error naming one case only, a flow without a switch, an unknown shape
    one = "Traceback (most recent call last):\n  File \"x.py\", line 3\nKeyError: 'low'\n"
    assert "O25" not in pids(dx.diagnose_trigger(trig(shape=shape, command=dx.CommandEvidence("t", 1, stderr=one))))
    assert "O25" not in pids(dx.diagnose_trigger(trig(shape=dx.flow_shape("class F(FlowSpec):\n    pass\n"),
                                                      command=dx.CommandEvidence("t", 1, stderr=stderr))))
    assert "O25" not in pids(dx.diagnose_trigger(trig(command=dx.CommandEvidence("t", 1, stderr=stderr))))
    # the names alone, in a line that is no error (e.g. the engine listing the ops it will run), are no evidence
    listing = "dagster - DEBUG - planned ops: high, low, merge\nKeyError: 'name'"
    assert "O25" not in pids(dx.diagnose_trigger(trig(shape=shape, command=dx.CommandEvidence("t", 1, stderr=listing))))


def test_engine_rejecting_a_parameter_values_type_is_o9() -> None:
    stderr = ('dagster._core.errors.DagsterInvalidConfigError: Error in config for job MfxSleepFlow\n'
              '    Error 1: Invalid scalar at path root:ops:op_start:config:seconds. Value "60" of type "<class \'str\'>" is not valid')
    diag = dx.diagnose_trigger(trig(params={"seconds": 60}, seconds=29.0, command=dx.CommandEvidence("dagster trigger", 1, stderr=stderr)))
    assert pids(diag) == ["O9"] and "'seconds'" in diag.what
    # adversarial: a type complaint about something that is not one of the parameters, or no parameters at all
    unrelated = dx.diagnose_trigger(trig(params={"alpha": 1}, command=dx.CommandEvidence("x trigger", 1, stderr=stderr)))
    assert "O9" not in pids(unrelated)
    bare = dx.diagnose_trigger(trig(params={}, command=dx.CommandEvidence("x trigger", 1, stderr=stderr)))
    assert "O9" not in pids(bare)


def test_a_parameter_value_left_over_as_an_extra_argument_is_o9_not_o8() -> None:
    """Seen on metaflow-flyte: its trigger hands every parameter to `pyflyte run` as `--name value`, but pyflyte
    makes a bool input a flag (--flag/--no-flag), so click stops at the value ("Got unexpected extra argument
    (False)"). The Deployer accepted the parameters (the CLI ran): no tuple (O8) is involved."""
    stderr = ("UserWarning: The parameter --flag is used more than once. Remove its duplicate as parameters should be unique.\n"
              " Usage: pyflyte run tmpymoef8qg.py mfx_params_flow [OPTIONS]\n"
              "╭─ Error ─────────╮\n│ Got unexpected extra argument (False)                                        │\n╰────────╯")
    params = {"text": "hello world", "count": 42, "ratio": 2.5, "flag": False, "payload": {"a": [1, 2]}}
    diag = dx.diagnose_trigger(trig(flow="params_flow", params=params, command=dx.CommandEvidence("flyte trigger", 1, stderr=stderr)))
    assert pids(diag) == ["O9"] and diag.kind == "trigger-param-encoding"
    assert "'flag'" in diag.what and "--flag False" in diag.what and "boolean flag" in diag.what
    # a bool parameter wins over another parameter whose value reads the same
    both = dx.diagnose_trigger(trig(params={"label": "True", "enabled": True}, command=dx.CommandEvidence(
        "x trigger", 2, stderr="Error: Got unexpected extra argument (True)")))
    assert "'enabled'" in both.what
    # adversarial: a stray argument that is no parameter's value is still a rejected value (O9), never O8
    stray = dx.diagnose_trigger(trig(params={"count": 3}, command=dx.CommandEvidence("x trigger", 2, stderr="Error: Got unexpected extra argument (zzz)")))
    assert pids(stray) == ["O9"] and stray.kind == "trigger-params-rejected"
    # the click API's tuple type check, run inside the CLI, stays O8
    tup = dx.diagnose_trigger(trig(params={"a": 1}, command=dx.CommandEvidence("x trigger", 1, stderr="TypeError: Invalid type for 'run_params', expected Tuple[str]")))
    assert pids(tup) == ["O8"]
    # and without parameters, nobody is blamed on them
    bare = dx.diagnose_trigger(trig(params={}, command=dx.CommandEvidence("x trigger", 2, stderr="Error: Got unexpected extra argument (False)")))
    assert not {"O8", "O9"} & set(pids(bare))


# -- run never became visible ----------------------------------------------------------------


def test_invisible_run_under_another_id_is_o2() -> None:
    diag = dx.diagnose_run(run_ev(pathspec="F/temporal-abc-other", statuses=[None], visible=False, other_runs=["temporal-abc"]))
    assert pids(diag) == ["O2"] and "temporal-abc" in diag.what


def test_numeric_or_delimited_run_ids_are_o19_whatever_the_status() -> None:
    for status in ("FAILED", "RUNNING", "SUCCEEDED"):
        diag = dx.diagnose_run(run_ev(pathspec="F/1234567890123456", statuses=["RUNNING", status], visible=False))
        assert pids(diag) == ["O19"]
    assert pids(dx.diagnose_run(run_ev(pathspec="F/manual__2022:01", statuses=["FAILED"], visible=False))) == ["O19"]


def test_failed_before_a_custom_start_step_is_o20() -> None:
    diag = dx.diagnose_run(run_ev(statuses=["RUNNING", "FAILED"], visible=False, shape=shape("custom_names_flow"), variation=[("O20", "custom")]))
    assert pids(diag) == ["O20"] and "'begin'" in diag.what


def test_failed_before_first_task_with_unknown_user_in_the_worker_log_is_o14() -> None:
    log = [
        "worker.log: [MfxProjectFlow/temporal-abc123/_parameters/1] Unknown user:",
        "worker.log:     Metaflow could not determine your user name based on environment variables ($USERNAME etc.)",
    ]
    diag = dx.diagnose_run(run_ev(statuses=["RUNNING", "FAILED"], visible=False, shape=shape("project_flow"), log_lines=log, control="failed: x"))
    assert pids(diag) == ["O14"] and "Unknown user" in diag.what


def test_failed_before_first_task_blames_the_variation_only_when_a_plain_run_succeeds() -> None:
    var = [("O14", "deployed by user 'bob'")]
    blamed = dx.diagnose_run(run_ev(statuses=["FAILED"], visible=False, variation=var, control="succeeded"))
    assert pids(blamed) == ["O14"]
    common = dx.diagnose_run(run_ev(statuses=["FAILED"], visible=False, variation=var, control="failed: init"))
    assert pids(common) == ["O20"] and "O14" not in headline(common)


def test_never_known_never_started_and_succeeded_invisible_differ() -> None:
    assert pids(dx.diagnose_run(run_ev(statuses=[None], visible=False))) == ["O2"]
    nobody = dx.diagnose_run(run_ev(statuses=[None, "PENDING"], visible=False))
    assert pids(nobody) == [] and nobody.kind == "no-worker" and "worker" in headline(nobody)
    assert pids(dx.diagnose_run(run_ev(statuses=["RUNNING", "SUCCEEDED"], visible=False))) == ["O21"]


# -- run never finishes ----------------------------------------------------------------------


def test_failed_tasks_while_status_stays_running_is_o22() -> None:
    diag = dx.diagnose_run(run_ev(timed_out=True, tasks=[task("start"), task("boom", ok=False, stderr="RuntimeError: Intentional")]))
    assert pids(diag) == ["O22"] and "F/r-1/boom/1" in diag.what


def test_crashed_attempt_without_end_marker_under_a_succeeded_status_is_o22() -> None:
    boom = dx.TaskEvidence("F/r/boom/1", "boom", finished=False, successful=False, stderr="Traceback (most recent call last):\nRuntimeError: Intentional failure")
    diag = dx.diagnose_run(run_ev(statuses=["RUNNING", "SUCCEEDED"], tasks=[task("start"), boom], expect_success=False))
    assert pids(diag) == ["O22"]


def test_step_stopped_by_timeout_but_run_never_failed_is_o22_not_o17() -> None:
    stopped = task("start", ok=False, stderr="TimeoutException: Step start timed out after 60 seconds")
    diag = dx.diagnose_run(run_ev(timed_out=True, tasks=[stopped], shape=shape("timeout_minutes_flow"), expect_success=False))
    assert pids(diag) == ["O22"] and "@timeout" in diag.what


def test_step_still_running_past_its_timeout_is_o17() -> None:
    diag = dx.diagnose_run(run_ev(timed_out=True, tasks=[task("start", finished=False)], shape=shape("timeout_minutes_flow"), expect_success=False))
    assert pids(diag) == ["O17"] and diag.kind == "task-still-running"
    plain = dx.diagnose_run(run_ev(timed_out=True, tasks=[task("start", finished=False)], shape=shape("linear_flow")))
    assert pids(plain) == []


def test_step_the_engine_stopped_at_its_timeout_while_the_status_stays_running_is_o22() -> None:
    """Seen on metaflow-prefect: Prefect stopped the task at 60 s (worker log: 'Task run exceeded timeout',
    flow run TimedOut), the Metaflow task never recorded its end and the status (derived from the Metaflow
    run only) stayed RUNNING. That is the status mapping (O22), not an unenforced @timeout (O17)."""
    log = ["worker.log (since the trigger): 15:24:57.386 | ERROR   | Task run 'start-902' - Task run exceeded timeout of 60.0 second(s)"]
    diag = dx.diagnose_run(run_ev(timed_out=True, tasks=[task("start", finished=False)], shape=shape("timeout_minutes_flow"),
                                  expect_success=False, log_lines=log))
    assert pids(diag) == ["O22"] and diag.kind == "timed-out-but-running" and "exceeded timeout" in diag.what
    # adversarial: the same log, but the run did report FAILED: nothing to blame on the status mapping
    failed = dx.diagnose_run(run_ev(statuses=["RUNNING", "FAILED"], tasks=[task("start", finished=False)], shape=shape("timeout_minutes_flow"),
                                    expect_success=False, log_lines=log))
    assert failed is None or pids(failed) != ["O22"] or failed.kind != "timed-out-but-running"
    # no sign of a stop anywhere: still O17
    other_log = ["worker.log (since the trigger): Task run 'start-902' - Finished in state Completed()"]
    still = dx.diagnose_run(run_ev(timed_out=True, tasks=[task("start", finished=False)], shape=shape("timeout_minutes_flow"),
                                   expect_success=False, log_lines=other_log))
    assert pids(still) == ["O17"]


def test_run_the_engine_failed_while_its_task_and_status_stay_running_is_o22() -> None:
    """Seen on metaflow-prefect: the step's command exited 1, Prefect's log says the flow run 'Finished in
    state Failed', the Metaflow task never recorded its end and the status (derived from the Metaflow run
    only) stayed RUNNING: the status mapping (O22), not "no known pitfall, a step is still running"."""
    log = ["worker.log: 19:01:44.604 | INFO    | Flow run 'able-bonobo' - Finished in state Failed(\"Flow run encountered an exception\")"]
    diag = dx.diagnose_run(run_ev(timed_out=True, tasks=[task("start"), task("middle", finished=False)], log_lines=log))
    assert pids(diag) == ["O22"] and diag.kind == "engine-failed-but-running" and "Finished in state Failed" in diag.what
    # adversarial: a step still running whose engine log says nothing of a failure stays undiagnosed
    calm = ["worker.log: Task run 'middle-1' - Finished in state Completed()", "worker.log: Flow run 'x' - Running"]
    still = dx.diagnose_run(run_ev(timed_out=True, tasks=[task("start"), task("middle", finished=False)], log_lines=calm))
    assert pids(still) == [] and still.kind == "task-still-running"
    # a step past its @timeout with the engine's timeout line is still the timeout case (checked first)
    timed = ["worker.log: Task run 'start-9' - Task run exceeded timeout of 60.0 second(s)", *log]
    by_timeout = dx.diagnose_run(run_ev(timed_out=True, tasks=[task("start", finished=False)], shape=shape("timeout_minutes_flow"),
                                        expect_success=False, log_lines=timed))
    assert by_timeout.kind == "timed-out-but-running"


def test_all_tasks_done_but_not_finished() -> None:
    done = [task("start"), task("middle"), task("end")]
    assert pids(dx.diagnose_run(run_ev(statuses=["RUNNING", "SUCCEEDED"], tasks=done))) == ["O20"]
    assert pids(dx.diagnose_run(run_ev(statuses=["RUNNING"], tasks=done))) == ["O22"]
    early = dx.diagnose_run(run_ev(statuses=["SUCCEEDED"], tasks=[task("start")]))
    assert pids(early) == ["O22"]


# -- run failed ------------------------------------------------------------------------------


def test_catch_firing_on_attempt_zero_of_a_retried_step_is_o16() -> None:
    tasks = [task("start"), task("doomed", caught=True), task("flaky", caught=True), task("join", ok=False, stderr="AttributeError: 'Flow' object has no attribute 'succeeded_on'")]
    diag = dx.diagnose_run(run_ev(statuses=["FAILED"], finished=False, tasks=tasks, shape=shape("catch_flow")))
    assert pids(diag) == ["O16"] and "flaky" in headline(diag)
    # the same catch on the step without @retry is legitimate: no O16
    tasks[2] = task("flaky", attempt=1)
    assert "O16" not in pids(dx.diagnose_run(run_ev(statuses=["FAILED"], tasks=tasks, shape=shape("catch_flow"))))


def test_unfinished_attempt_of_a_failed_run_counts_as_failed_o28() -> None:
    # recorded: the engine retried boom 4 times, the last attempt never wrote its end marker
    boom = dx.TaskEvidence("F/r/boom/t-1", "boom", finished=False, successful=False, attempt=3, stderr="<flow F step boom> failed:\n    Internal error")
    diag = dx.diagnose_run(run_ev(statuses=["RUNNING", "FAILED"], tasks=[boom, task("start")], decospecs=["catch:var=dynamic_error"], shape=shape("always_fails_flow")))
    assert pids(diag) == ["O28"] and "no @catch fired" in diag.what
    retried = dx.diagnose_run(run_ev(statuses=["FAILED"], tasks=[task("boom", ok=False)], decospecs=["retry:times=2"]))
    assert pids(retried) == ["O28"]
    # the decorator acted (catch fired; retry happened): not O28
    acted = dx.diagnose_run(run_ev(statuses=["FAILED"], tasks=[task("boom", ok=False, attempt=2)], decospecs=["retry:times=2"]))
    assert "O28" not in pids(acted)


def test_user_error_despite_a_deploy_time_decorator_is_o28() -> None:
    boom = task("boom", ok=False, stderr="Traceback ...\nRuntimeError: Intentional failure: only a dynamic @catch gets past this")
    diag = dx.diagnose_run(run_ev(statuses=["FAILED"], tasks=[task("start"), boom], decospecs=["catch:var=dynamic_error"], shape=shape("always_fails_flow")))
    assert pids(diag) == ["O28"]
    # without decospecs, the same failure is the step's own
    plain = dx.diagnose_run(run_ev(statuses=["FAILED"], tasks=[task("start"), boom], shape=shape("always_fails_flow")))
    assert pids(plain) == [] and "boom" in headline(plain)


def test_known_metaflow_errors_in_task_stderr() -> None:
    cases = {
        "MetaflowInternalError: Foreach step has no split_index": "O18",
        "Step join is not a join step but gets multiple inputs": "O18",
        "MetaflowInternalError: Step *body* follows a split step but no split_index is specified.": "O18",
        "MetaflowDataMissing: Join *join* expected 3 splits but only 2 inputs were found": "O18",
        "Step *join* tries to join a foreach split": "O18",
        "Unknown user:\n Metaflow could not determine your user name": "O14",
        "Could not load expected configuration values": "O11",
    }
    for stderr, pid in cases.items():
        diag = dx.diagnose_run(run_ev(statuses=["FAILED"], tasks=[task("start", ok=False, stderr=stderr)]))
        assert pids(diag)[0] == pid, (stderr, diag)
        assert stderr.splitlines()[-1].strip()[:30] in diag.what


def test_expected_failure_and_success_need_no_diagnosis() -> None:
    assert dx.diagnose_run(run_ev(statuses=["FAILED"], finished=False, expect_success=False, tasks=[task("boom", ok=False)])) is None
    assert dx.diagnose_run(run_ev(statuses=["SUCCEEDED"], finished=True, successful=True, tasks=[task("end")])) is None


def test_every_failure_carries_its_evidence() -> None:
    diag = dx.diagnose_run(run_ev(statuses=["RUNNING", "FAILED"], tasks=[task("start", ok=False, stderr="line1\nValueError: the real cause")]))
    assert "statuses seen: ['RUNNING', 'FAILED']" in diag.what and "ValueError: the real cause" in diag.what


# -- harness evidence helpers ----------------------------------------------------------------


def test_variation_names_what_a_deployment_sets() -> None:
    ctx = Context("project_flow", [], {"METAFLOW_USER": "bob"}, {"branch": "b1", "decospecs": ["catch"], "pylint": False}, params={"x": 1})
    found = dict(variation(ctx, shape("project_flow")))
    assert {"O14", "O13", "O28", "O9"} <= set(found) and "O20" not in found
    assert "O20" in dict(variation(Context("single_step_flow", [], {}, {}), shape("single_step_flow")))
    assert variation(Context("linear_flow", [], {}, {"pylint": False}), shape("linear_flow")) == []


def test_devstack_log_lines_keep_the_lines_after_each_mention(tmp_path: Path) -> None:
    (tmp_path / "worker.log").write_text("boot\n[F/temporal-abc123/start/1] Unknown user:\n  could not determine\nunrelated\nother run temporal-zzz\n")
    (tmp_path / "notes.txt").write_text("temporal-abc123 in a non-log file")
    lines = devstack_log_lines([tmp_path, tmp_path], "temporal-abc123", context_lines=1)
    assert lines == ["worker.log: [F/temporal-abc123/start/1] Unknown user:", "worker.log:   could not determine"]
    assert devstack_log_lines([tmp_path / "missing"], "temporal-abc123") == []


def test_per_run_engine_logs_join_the_evidence(tmp_path: Path) -> None:
    """Engines that keep one log file per task attempt under a path naming the run (Airflow:
    logs/dag_id=D/run_id=R/task_id=T/attempt=N.log) are read too: their problem lines only."""
    run_dir = tmp_path / "airflow" / "logs" / "dag_id=F" / "run_id=mf-airflow-abc123" / "task_id=begin"
    run_dir.mkdir(parents=True)
    (run_dir / "attempt=1.log").write_text(
        '{"level":"info","event":"Worker startup parse complete"}\n'
        '{"level":"error","event":"No completed attempts of the task was found for task \'F/mf-airflow-abc123/_parameters/p-1\'"}\n'
    )
    other = tmp_path / "airflow" / "logs" / "dag_id=F" / "run_id=mf-airflow-zzz999" / "task_id=begin"
    other.mkdir(parents=True)
    (other / "attempt=1.log").write_text('{"level":"error","event":"Step body follows a split step but no split_index is specified."}\n')
    (tmp_path / "airflow.log").write_text("scheduler: queued mf-airflow-abc123\n")
    datastore = tmp_path / "datastore" / ".metaflow" / "F" / "mf-airflow-abc123" / "start" / "1"
    datastore.mkdir(parents=True)
    (datastore / "0.task_stderr.log").write_text("Traceback: an error the client reads from the task itself\n")
    lines = devstack_log_lines([tmp_path], "mf-airflow-abc123", context_lines=0)
    assert lines[0] == "airflow.log: scheduler: queued mf-airflow-abc123"
    assert len(lines) == 2 and "_parameters" in lines[1] and lines[1].startswith("run_id=mf-airflow-abc123/task_id=begin/attempt=1.log: ")
    # the problem line names the cause: init never ran for the run (O20), with a start step named "begin"
    diag = dx.diagnose_run(run_ev(pathspec="F/mf-airflow-abc123", statuses=["FAILED"], tasks=[task("begin", ok=False)], log_lines=lines))
    assert pids(diag) == ["O20"] and "init did not run" in diag.what
    # another run's log never counts
    assert devstack_log_lines([tmp_path], "mf-airflow-nothere") == []


def test_attempt_beyond_the_retry_budget_is_o15() -> None:
    lines = ["task_id=start/attempt=1.log: task_entry: error: attempt 2 of step 'start' exceeds its budget of 1 attempt(s) (@retry / @catch)"]
    diag = dx.diagnose_run(run_ev(visible=False, statuses=["PENDING", "FAILED"], log_lines=lines))
    assert pids(diag) == ["O15"], diag


def test_run_that_stops_after_a_switch_is_o25_and_a_plain_stall_is_not() -> None:
    assert shape("switch_flow").switches == {"start": ["high", "low"]} and shape("linear_flow").switches == {}
    # the chosen case ran, the step after the cases never did, and the engine calls that success
    merged = run_ev(statuses=["RUNNING", "SUCCEEDED"], shape=shape("switch_flow"), tasks=[task("start"), task("low")])
    diag = dx.diagnose_run(merged)
    assert pids(diag) == ["O25", "O22"] and "split-switch 'start'" in diag.what, diag
    # no case ran at all (the switch followed a case the task did not choose, which then skipped itself)
    assert pids(dx.diagnose_run(run_ev(statuses=["SUCCEEDED"], shape=shape("switch_flow"), tasks=[task("start")])))[0] == "O25"
    # the same stall in a flow without a switch keeps its old reading
    assert pids(dx.diagnose_run(run_ev(statuses=["SUCCEEDED"], shape=shape("linear_flow"), tasks=[task("start")]))) == ["O22"]


def test_retry_that_ran_as_a_new_task_is_o15_not_the_input_error_it_causes() -> None:
    failed_first = dx.TaskEvidence("F/r-1/flaky/t-a", "flaky", True, False, 0, "RuntimeError: Intentional first-attempt failure")
    retried = dx.TaskEvidence("F/r-1/flaky/t-b", "flaky", True, True, 1)
    lines = ["task_id=end/attempt=1.log: task_entry: error: input task r-1/flaky/t-a of end has not succeeded: run it first"]
    ev = run_ev(statuses=["FAILED"], finished=True, shape=shape("retry_flow"), tasks=[task("start"), failed_first, retried], log_lines=lines)
    diag = dx.diagnose_run(ev)
    assert pids(diag) == ["O15"] and "new task" in diag.what, diag
    # the input error alone (no second task of the step) is O18
    alone = run_ev(statuses=["FAILED"], finished=True, shape=shape("retry_flow"), tasks=[task("start")], log_lines=lines)
    assert pids(dx.diagnose_run(alone)) == ["O18"]
    # foreach splits retried on their own tasks are no evidence: the failed task exhausted its budget
    spent = dx.TaskEvidence("F/r-1/flaky/t-c", "flaky", True, False, 2, "RuntimeError: boom")
    other = dx.TaskEvidence("F/r-1/flaky/t-d", "flaky", True, True, 1)
    assert dx._retry_as_new_task(run_ev(shape=shape("retry_flow"), tasks=[spent, other]), [spent]) == ""


def test_failure_carries_pids_and_kind() -> None:
    failure = _raise(dx.Diagnosis("O2,O21", "what", "fix", "kind-x"))
    assert isinstance(failure, ComplianceFailure) and failure.pids == ["O2", "O21"] and failure.kind == "kind-x"
    assert str(failure).startswith("[O2 ")


# -- the mutation check's judge ----------------------------------------------------------------


def test_names_pitfall_matches_whole_ids_only() -> None:
    assert names_pitfall("[O2 trigger ...] x", "O2")
    assert not names_pitfall("[O20 init ...] x", "O2")
    assert not names_pitfall("[B12 sync] x", "B1")
    assert names_pitfall("blocked by linear (run 'linear'): [O19 forbidden ...]", "O19")
    assert headline_of("mfx.compliance.expect.ComplianceFailure: [O2 x] y\n  more") == "[O2 x] y"


def test_headlines_from_junit(tmp_path: Path) -> None:
    xml = tmp_path / "c.xml"
    xml.write_text(
        '<testsuites><testsuite><testcase name="test_a[x]"><failure message="AssertionError: [O14 METAFLOW_OWNER not set] run r&#10;more">t</failure></testcase>'
        '<testcase name="test_b"/><testcase name="test_c"><error message="">boom\nline</error></testcase></testsuite></testsuites>'
    )
    got = headlines_from_junit(xml)
    assert got == {"test_a": "[O14 METAFLOW_OWNER not set] run r", "test_c": "boom"}
    assert headlines_from_junit(tmp_path / "missing.xml") == {}


@pytest.mark.parametrize("pid", ["O2", "O14", "O16", "O17", "O19", "O20", "O22", "O24", "O28"])
def test_headline_label_is_the_pitfall(pid: str) -> None:
    assert re.match(rf"\[{pid} ", headline(dx.Diagnosis(pid, "x")))


# -- compute backends ------------------------------------------------------------------------


def test_backend_failure_named_by_the_evidence_before_the_candidates() -> None:
    creds = dx.diagnose_backend_failure("the contract flow failed", "launcher ok", [("F/1/start/2", "botocore.exceptions.NoCredentialsError: Unable to locate credentials")], "B5,B6,B7,B10,B11")
    assert pids(creds) == ["B11"] and "F/1/start/2" in creds.what
    option = dx.diagnose_backend_failure("resume failed", "Error: No such option: --clone-run-id", [], "B4,B3")
    assert pids(option) == ["B4"]
    other_option = dx.diagnose_backend_failure("run failed", "Error: no such option: --queue", [], "B10")
    assert pids(other_option) == ["B3"]


def test_backend_failure_without_known_text_keeps_the_scenarios_candidates_with_the_first_error() -> None:
    diag = dx.diagnose_backend_failure("the contract flow failed", "", [("F/1/join/5", "Traceback\nKeyError: 'x'")], "B5,B6", "read the task error")
    assert pids(diag) == ["B5", "B6"] and diag.kind == "candidates" and "KeyError: 'x'" in diag.what and diag.fix == "read the task error"


def test_log_since_the_trigger_covers_logs_without_run_ids(tmp_path: Path) -> None:
    from mfx.compliance.harness import log_marks, log_since

    (tmp_path / "worker.log").write_text("old run output\n")
    marks = log_marks([tmp_path])
    with open(tmp_path / "worker.log", "a") as fh:
        fh.write("[_parameters/1] Unknown user:\n\n[_parameters/1]     Metaflow could not determine your user name\n")
    (tmp_path / "late.log").write_text("a log started after the trigger\n")
    lines = log_since([tmp_path], marks)
    assert not any("old run output" in line for line in lines)
    assert any("Unknown user" in line for line in lines) and any("late.log" in line for line in lines)
    diag = dx.diagnose_run(run_ev(statuses=["FAILED"], visible=False, log_lines=lines))
    assert pids(diag) == ["O14"]


def test_a_test_blocked_by_another_capabilitys_run_says_so() -> None:
    from types import SimpleNamespace

    from mfx.compliance.harness import Harness, Spec

    h = Harness(SimpleNamespace(), "orchestrator")  # type: ignore[arg-type]
    cause = _raise(dx.Diagnosis("O19", "run id '123' is numeric", "prefix run ids", "bad-run-id"))
    spec = Spec("linear", "linear", "linear_flow")
    h.current = {"run-id-rules"}
    blocked = h.blocked(spec, cause)
    first = str(blocked).splitlines()[0]
    assert first.startswith("blocked by linear (run 'linear'): [O19 ") and blocked.pids == ["O19"] and blocked.kind == "bad-run-id"
    h.current = {"linear"}
    assert h.blocked(spec, cause) is cause  # its own run: the cause itself
    h.current = set()
    assert h.blocked(spec, cause) is cause  # outside a test (prefetch)
    other = RuntimeError("not an assertion")
    h.current = {"run-id-rules"}
    assert h.blocked(spec, other) is other


def test_backend_config_and_package_errors_are_told_apart() -> None:
    pkg = "[1/start/1] [15]     Could not load expected configuration values from the CONFIG_PARAMETERS file. This is a Metaflow bug."
    assert pids(dx.diagnose_backend_failure("x", pkg, [], "B5,B6,B7")) == ["B6"]
    assert pids(dx.diagnose_backend_failure("x", "Could not load expected configuration values", [], "B5,B6,B7")) == ["B5"]


def test_backend_task_that_left_no_logs_is_b11_unless_an_error_is_visible() -> None:
    out = "Task failed: job 16 ended FAILED (exit code 1, NonZeroExitCode).\nStep failure:"
    assert pids(dx.diagnose_backend_failure("x", out, [("F/1/start/1", "")], "B5,B11")) == ["B11"]
    assert pids(dx.diagnose_backend_failure("x", out + "\nTraceback (most recent call last):\nKeyError: 1", [("F/1/start/1", "")], "B5,B11")) == ["B5", "B11"]
    assert pids(dx.diagnose_backend_failure("x", out, [("F/1/start/1", "ValueError: boom")], "B5,B11")) == ["B5", "B11"]
    # some tasks succeeded: the datastore is reachable; silent siblings of one step clash on the worker (B7)
    fans = [(f"F/1/fan/{i}", "") for i in (2, 3, 4)]
    assert pids(dx.diagnose_backend_failure("x", out, fans, "B5,B6,B7,B10,B11", succeeded=["F/1/start/1"])) == ["B7"]
    assert pids(dx.diagnose_backend_failure("x", out, fans[:1], "B5,B6,B7,B10,B11", succeeded=["F/1/start/1"])) == ["B5", "B6", "B7", "B10", "B11"]
    # a scenario that does not exercise the datastore (a killed attempt also leaves no logs): not B11
    assert pids(dx.diagnose_backend_failure("x", out, [("F/1/killed/1", "")], "B14,B26")) == ["B14", "B26"]


def test_missing_artifact() -> None:
    assert pids(dx.diagnose_missing_artifact("F/1/join", "total", [])) == ["B5"]
    other = dx.diagnose_missing_artifact("F/1/join", "total", ["greeting"])
    assert pids(other) == [] and "greeting" in other.what


def test_create_failing_on_a_literal_start_step_is_o20() -> None:
    """metaflow-dagster's compiler walks the graph from graph["start"]: on a flow whose entry step has
    another name, create dies with KeyError: 'start'. The headline names O20, not 'no known pitfall'."""
    tail = 'queue = deque([self.graph["start"]])\n  File ".../metaflow/graph.py", line 536, in __getitem__\nKeyError: \'start\'\n'
    custom = dx.flow_shape("from metaflow import FlowSpec, step\nclass F(FlowSpec):\n    @step(start=True)\n    def begin(self):\n        self.next(self.finish)\n    @step(end=True)\n    def finish(self):\n        pass\n")
    found = dx.diagnose_create(tail, custom)
    assert found is not None and found.pid == "O20" and "'begin'" in found.what and "graph.start_step" in found.fix
    assert dx.diagnose_create(tail.replace("'start'", "'end'"), custom).what.endswith("exit step is 'finish'")
    # the flow really has a step named start: the KeyError is something else, no O20 claimed
    assert dx.diagnose_create(tail, shape("linear_flow")) is None
    assert dx.diagnose_create(tail, shape("custom_names_flow")).pid == "O20"
    assert dx.diagnose_create("KeyError: 'retry'", custom) is None


def test_invisible_run_whose_data_is_under_another_root_is_o21(tmp_path: Path) -> None:
    """metaflow-prefect's generated tasks set METAFLOW_DATASTORE_SYSROOT_LOCAL=~: the run completed on
    the engine, its data went to ~/.metaflow, the client (another root) never saw it and the status
    stayed PENDING. The headline names O21 with the directory, not "nobody executed (no worker?)"."""
    home_root, client_root = tmp_path / "home" / ".metaflow", tmp_path / "session" / ".metaflow"
    (home_root / "MfxBranchFlow" / "prefect-e800").mkdir(parents=True)
    client_root.mkdir(parents=True)
    elsewhere = dx.local_roots_elsewhere("MfxBranchFlow", "prefect-e800", str(client_root), [str(client_root), str(home_root)])
    assert elsewhere == [str(home_root / "MfxBranchFlow" / "prefect-e800")]
    ev = dx.RunEvidence("MfxBranchFlow/prefect-e800", ["PENDING"] * 5, 300.0, visible=False, timed_out=True,
                        elsewhere=elsewhere, client_root=str(client_root))
    found = dx.diagnose_run(ev)
    assert found.pid == "O21" and str(home_root) in found.what and str(client_root) in found.what
    # no data anywhere else: still the no-worker diagnosis
    ev.elsewhere = dx.local_roots_elsewhere("MfxBranchFlow", "prefect-other", str(client_root), [str(home_root)])
    assert ev.elsewhere == [] and dx.diagnose_run(ev).kind == "no-worker"
    # the client's own root is never "elsewhere"
    assert dx.local_roots_elsewhere("MfxBranchFlow", "prefect-e800", str(home_root), [str(home_root)]) == []


def test_create_bound_grows_with_this_machines_start_up_time() -> None:
    """O1 is a create that does not answer: the bound is CREATE_TIMEOUT of the CLI's own work plus twice
    the (measured, real) time this machine takes to start Python and import Metaflow, measured once."""
    from mfx.compliance import harness

    first = harness.startup_seconds()
    assert 0 < first < 4 * harness.CREATE_TIMEOUT + 5
    assert harness.startup_seconds() == first, "measured once per process"
    assert harness.create_timeout() == harness.CREATE_TIMEOUT + 2 * first


class _SlowCreate:
    """A Deployer implementation whose create() answers only after ``answer_after`` seconds, and
    otherwise gives up at the Deployer's attribute-file bound as Metaflow's does (RuntimeError)."""

    def __init__(self, answer_after: float, calls: list) -> None:
        self.answer_after, self.calls = answer_after, calls

    def create(self, **_: object) -> object:
        from mfx.compliance import harness

        bound = harness.create_timeout()
        self.calls.append(bound)
        time.sleep(min(self.answer_after, bound))
        if self.answer_after > bound:
            raise RuntimeError("Error executing: the attribute file was not written in time")
        return SimpleNamespace(name="deployed")


def _starving_machine(monkeypatch, tmp_path, first: float, later: float) -> None:
    """Interpreter start-up takes ``first`` seconds when first measured and ``later`` afterwards (a real
    subprocess per measurement, as the suite's own probe is)."""
    from mfx.compliance import harness

    count = tmp_path / "count"
    probe = (f"import pathlib, time; p = pathlib.Path({str(count)!r}); n = len(p.read_text()) if p.exists() else 0;"
             f" p.write_text('x' * (n + 1)); time.sleep({first} if n == 0 else {later})")
    monkeypatch.setattr(harness, "STARTUP_PROBE", [sys.executable, "-c", probe])
    monkeypatch.setattr(harness, "_STARTUP", [])
    monkeypatch.setattr(harness, "CREATE_TIMEOUT", 1.0)


def test_a_create_cut_on_a_machine_that_got_slower_is_tried_once_more(monkeypatch, tmp_path) -> None:
    from mfx.compliance import harness

    # bound 1 s + 2 x start-up: ~1-2 s at first, then at least 7 s; the create answers after 4 s
    _starving_machine(monkeypatch, tmp_path, first=0.0, later=3.0)
    calls: list = []
    h = harness.Harness(SimpleNamespace(), "orchestrator")  # type: ignore[arg-type]
    monkeypatch.setattr(h, "deployer", lambda flow, env=None, **kw: _SlowCreate(4.0, calls))
    monkeypatch.setattr(h, "create_args", lambda tags: {})
    deployed = h.create("linear_flow")
    assert deployed.name == "deployed"
    assert len(calls) == 2 and calls[1] > 1.1 * calls[0], calls


def test_a_create_that_never_answers_on_a_steady_machine_is_o1_without_a_retry(monkeypatch, tmp_path) -> None:
    from mfx.compliance import harness

    _starving_machine(monkeypatch, tmp_path, first=1.0, later=0.0)  # steady or calmer: the bound never grows
    calls: list = []
    h = harness.Harness(SimpleNamespace(), "orchestrator")  # type: ignore[arg-type]
    monkeypatch.setattr(h, "deployer", lambda flow, env=None, **kw: _SlowCreate(60.0, calls))
    monkeypatch.setattr(h, "create_args", lambda tags: {})
    monkeypatch.setattr(harness, "cli_output", lambda impl: "")
    monkeypatch.setattr(harness, "command_line", lambda impl, name: "flow.py engine create")
    with pytest.raises(BaseException) as info:
        h.create("linear_flow")
    assert "O1" in str(info.value) and len(calls) == 1, (str(info.value), calls)


def test_an_engine_prefixed_run_id_is_found_by_its_engines_part(tmp_path: Path) -> None:
    """Seen on metaflow-prefect 0.3.7: the Metaflow run id is 'prefect-<flow run id>', and Prefect's worker log
    names the flow run by its own id only; the suite found no line naming the run and blamed a missing worker."""
    flow_run = "2e037933-858f-41c8-abea-8240f0f32ad6"
    (tmp_path / "worker.log").write_text(
        f"Worker submitting flow run '{flow_run}'\n"
        "prefect.exceptions.SignatureMismatchError: Function expects parameters ['route'] but was provided with parameters [\"('route\"]\n"
        f"prefect.runner.state_proposer - Reported flow run '{flow_run}' as crashed: Process exited with status code: 1.\n"
        "Worker submitting flow run 'ffffffff-0000-0000-0000-000000000000'\n"
    )
    lines = devstack_log_lines([tmp_path], f"prefect-{flow_run}", context_lines=0)
    assert len(lines) == 2 and all(flow_run in line for line in lines)
    # adversarial: a short or non-alphabetic prefix part is no engine prefix; another run is never named
    assert devstack_log_lines([tmp_path], "prefect-2e03") == []
    assert devstack_log_lines([tmp_path], "prefect-ffffffff-1111") == []


def test_run_the_engine_ended_while_its_status_stays_pending_is_not_a_missing_worker() -> None:
    """The engine's log naming the run says it crashed: a worker took it. With a plain run succeeding on the same
    engine, what this deployment varies (its parameters) is named (O9), never 'is a worker running?'."""
    lines = ["worker.log: Worker submitting flow run '2e037933-858f'",
             "worker.log: prefect.runner.state_proposer - Reported flow run '2e037933-858f' as crashed: Process exited with status code: 1."]
    ev = run_ev(pathspec="MfxSwitchFlow/prefect-2e037933-858f", statuses=["PENDING"] * 3, visible=False, elapsed=300.0, log_lines=lines,
                variation=[("O9", "parameters ['route']")], control="succeeded")
    diag = dx.diagnose_run(ev)
    assert pids(diag) == ["O9"] and "was ended by the engine" in diag.what and "as crashed" in diag.what
    assert "is a worker running" not in diag.what
    # without a plain run to compare: init or the start step failed on the worker (O20), still no missing worker
    assert pids(dx.diagnose_run(run_ev(pathspec="F/prefect-2e037933-858f", statuses=["PENDING"], visible=False, log_lines=lines))) == ["O20"]
    # adversarial: the log only says the run was submitted: nobody is known to have ended it
    quiet = dx.diagnose_run(run_ev(pathspec="F/prefect-2e037933-858f", statuses=["PENDING"], visible=False, log_lines=lines[:1]))
    assert "is a worker running" in quiet.what


def test_a_parameter_named_like_the_text_of_a_tuple_is_o8() -> None:
    """Seen on metaflow-prefect: trigger handed the parameters to Metaflow's click API as a tuple; the engine
    was then asked for a parameter named "('route" and refused the run. The headline had said O9 (parameters
    not reaching init): the first cause is the tuple (O8)."""
    seen = ("23:20:04.268 | ERROR | Flow run crashed: SignatureMismatchError: Function expects parameters ['route'] "
            "but was provided with parameters [\"('route\"]")
    assert dx.match_patterns(seen)[0] == "O8"
    assert dx.match_patterns("unknown parameter '(\"alpha' given")[0] == "O8"  # the other quoting
    # adversarial: a tuple-looking parameter *value*, a plain wrong name, a parenthesised parameter list
    for line in ('flow run parameters {"route": "(\'low\', \'high\')"}',
                 "Function expects parameters ['route'] but was provided with parameters [\"rout\"]",
                 "parameters: (a=1, b=2)"):
        hit = dx.match_patterns(line)
        assert hit is None or hit[0] != "O8", line
