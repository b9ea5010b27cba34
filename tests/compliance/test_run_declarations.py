"""Runs declared at the tests that need them (mfx.compliance.runspec): the plugin plans only the
runs of the selected, not skipped tests, each key once, long runs first; a wait for a run the test
does not declare is an error. Real pytest sessions (pytester) with the real plugin, on a small
extension project without an engine (nothing is launched: the plan is what the session fixtures
would launch), plus static checks of the suite's own declarations."""

from __future__ import annotations

import ast
import json
import os
import signal
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
from compliance.test_plugin import make_project
from mfx.compliance import cli
from mfx.compliance.plugin import Current
from mfx.compliance.runspec import MARKER, DeclarationError, RunNotDeclared, Spec, _specs_of_marks, suite_runs

pytest_plugins = ["pytester"]

SUITE = Path(cli.__file__).resolve().parent

DECLARING_TESTS = textwrap.dedent(
    """
    import json
    import pytest
    from mfx.compliance.harness import Handle, Harness
    from mfx.compliance.runspec import RunNotDeclared, Spec

    SHARED = Spec("shared", "branch", "branch_flow")
    OTHER = Spec("other", "foreach", "foreach_flow", order=5)
    LONG = Spec("long", "linear", "linear_flow", order=0)
    OPTIONAL = Spec("optional", "resume", "fail_flow")
    SWITCH = Spec("switch", "switch", "switch_flow")
    CASES = {"one": Spec("p1", "single-step", "single_step_flow"), "two": Spec("p2", "single-step", "single_step_flow")}


    @pytest.mark.capability("branch")
    @pytest.mark.mfx_run(SHARED)
    def test_a():
        pass

    @pytest.mark.capability("foreach")
    @pytest.mark.mfx_run(SHARED, OTHER)
    def test_b():
        pass

    @pytest.mark.capability("linear")
    @pytest.mark.mfx_run(LONG)
    def test_c(mfx_engine):
        assert [s.key for s in mfx_engine.runs] == json.load(open("plan.json")), "the engine carries the plan"

    @pytest.mark.capability("resume")  # optional, not declared by the extension: skipped
    @pytest.mark.mfx_run(OPTIONAL)
    def test_undeclared_optional():
        raise AssertionError("must not run")

    @pytest.mark.capability("switch")  # optional and declared
    @pytest.mark.mfx_run(SWITCH)
    def test_e():
        pass

    @pytest.mark.capability("single-step")
    @pytest.mark.parametrize("case", [pytest.param(name, marks=pytest.mark.mfx_run(spec)) for name, spec in CASES.items()])
    def test_p(case):
        pass

    @pytest.mark.capability("single-step")
    def test_waits_for_an_undeclared_run(mfx_engine):
        h = Harness(mfx_engine)
        h.launch = lambda spec: pytest.fail("an undeclared run must not be launched")
        with pytest.raises(RunNotDeclared, match=r"test_waits_for_an_undeclared_run waits for run 'long' but does not declare it"):
            h.finish(LONG)

    @pytest.mark.capability("single-step")
    @pytest.mark.mfx_run(LONG)
    def test_waits_for_a_declared_run(mfx_engine):
        h = Harness(mfx_engine)
        launched = []

        def launch(spec):
            launched.append(spec.key)
            return Handle(spec, error=RuntimeError("engine said no"))

        h.launch = launch
        with pytest.raises(RuntimeError, match="engine said no"):
            h.finish(LONG)
        assert launched == ["long"]
    """
)


# What the kinds' session fixtures launch (the suite's conftest.py: h.prefetch / bk.prefetch), read
# after the plugin planned it (also when every selected test is skipped).
RECORD_PLAN = textwrap.dedent(
    """
    import json
    import pytest
    from mfx.compliance.plugin import planned_runs

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(session):
        with open("plan.json", "w") as fh:
            json.dump([s.key for s in planned_runs(session.config)], fh)
    """
)


def _session(pytester: pytest.Pytester, project: Path, *args: str) -> pytest.RunResult:
    """One real pytest session with the suite active, in this process (a few seconds less each than
    a subprocess); the environment and the SIGTERM handler the plugin sets are restored after."""
    environ, sigterm = dict(os.environ), signal.getsignal(signal.SIGTERM)
    try:
        return pytester.runpytest_inprocess("--mfx-compliance", f"--mfx-project={project}", "-p", "no:cacheprovider", *args)
    finally:
        os.environ.clear()
        os.environ.update(environ)
        signal.signal(signal.SIGTERM, sigterm)


def _plan(pytester: pytest.Pytester, project: Path, *args: str) -> List[str]:
    pytester.makepyfile(test_declaring=DECLARING_TESTS)
    pytester.makeconftest(RECORD_PLAN)
    plan = pytester.path / "plan.json"
    if plan.exists():
        plan.unlink()
    result = _session(pytester, project, *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return json.loads(plan.read_text())


def test_the_plan_holds_the_runs_of_the_selected_tests_only(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext", devstack=False)
    # every selected test: each key once (`shared` is declared by two tests), long runs first
    # (order), then in the order of the tests; the undeclared optional capability's run never
    assert _plan(pytester, project) == ["long", "other", "shared", "switch", "p1", "p2"]
    # -k one test: only its runs (a shared run is launched for any one of its users)
    assert _plan(pytester, project, "-k", "test_b") == ["other", "shared"]
    assert _plan(pytester, project, "-k", "test_a") == ["shared"]
    assert _plan(pytester, project, "-k", "test_p and two") == ["p2"], "a parametrized case declares its own run"
    # a selected test of an undeclared optional capability is skipped, and its run is not launched
    assert _plan(pytester, project, "-k", "test_undeclared_optional") == []


def test_waiting_for_a_run_needs_its_declaration(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext", devstack=False)
    pytester.makepyfile(test_declaring=DECLARING_TESTS)
    pytester.makeconftest(RECORD_PLAN)
    result = _session(pytester, project, "-k", "waits_for or test_c")
    result.assert_outcomes(passed=3)
    assert json.loads((pytester.path / "plan.json").read_text()) == ["long"], "the declared wait's run is planned, the undeclared one is not"


CONFLICT = """
import pytest
from mfx.compliance.runspec import Spec

A = Spec("k", "branch", "branch_flow")
B = Spec("k", "branch", "foreach_flow")

@pytest.mark.capability("branch")
@pytest.mark.mfx_run(A)
def test_one():
    pass

@pytest.mark.capability("foreach")
@pytest.mark.mfx_run(B)
def test_two():
    pass
"""


def test_one_key_declared_as_two_runs_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext", devstack=False)
    pytester.makepyfile(test_conflict=CONFLICT)
    result = pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", "-p", "no:cacheprovider", timeout=120)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    text = result.stdout.str() + result.stderr.str()
    assert "run 'k' is declared differently by test_conflict.py::test_one and test_conflict.py::test_two" in text, text
    assert "Traceback" not in text and "INTERNALERROR" not in text, text


def test_backend_runs_launch_each_declared_run_once_in_plan_order(tmp_path: Path) -> None:
    """BackendRuns.prefetch starts the plan in order, in the background, each key once; the Runner
    call itself (an engine) is replaced by a recorder: what is checked is what it is given."""
    from mfx.compliance.tests.backend.runs import BackendRuns, RunResult

    engine = SimpleNamespace(progress=None, current=Current(), run_timeout=60.0)
    runs = BackendRuns(engine, tmp_path)  # type: ignore[arg-type]
    calls: List[Dict[str, Any]] = []

    def run(flow: str, **kwargs: Any) -> RunResult:
        calls.append({"flow": flow, **kwargs})
        return RunResult(flow, "successful", 0, None, "out", "", 0.1)

    runs.run = run  # type: ignore[method-assign]
    slow = Spec("retry_flow", "retry", "retry_flow", extra_timeout=180, order=0)
    contract = Spec("contract_flow", "artifacts", "contract_flow", top_level={"config_value": [("cfg", {"a": 1})]}, params={"n": 2})
    try:
        runs.prefetch([slow, contract, slow])
        assert runs.shared(contract).stdout == "out" and runs.shared(slow).status == "successful"
        engine.current.nodeid, engine.current.runs = "test_x.py::test_y", frozenset({"contract_flow"})
        assert runs.shared(contract).stdout == "out", "a declared run: its cached result"
        with pytest.raises(RunNotDeclared, match="test_y waits for run 'retry_flow'"):
            runs.shared(slow)
    finally:
        runs.close()
    assert [c["flow"] for c in calls] == ["retry_flow", "contract_flow"], "each key launched once, in plan order"
    assert calls[0]["extra_timeout"] == 180 and calls[0]["label"] == "retry_flow"
    assert calls[1]["top_level"] == {"config_value": [("cfg", {"a": 1})]} and calls[1]["n"] == 2 and "extra_timeout" not in calls[1]
    assert [row.key for row in runs.progress_rows()] == ["retry_flow", "contract_flow"], "one progress row per run, by key"


# -- the suite's own declarations -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["orchestrator", "backend"])
def test_suite_runs_are_unique_and_their_flows_exist(kind: str) -> None:
    runs = suite_runs(kind)  # raises DeclarationError on a key declared twice differently
    assert runs, f"no {kind} test declares a run"
    missing = {key: spec.flow for key, spec in runs.items() if not (SUITE / "flows" / kind / f"{spec.flow}.py").is_file()}
    assert not missing, f"runs of flows that do not exist: {missing}"


def _decorator_runs(func: ast.FunctionDef) -> set:
    """Names given to @pytest.mark.mfx_run(...) on ``func``, parametrized cases included."""
    names = set()
    for deco in func.decorator_list:
        for node in ast.walk(deco):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == MARKER:
                names |= {a.id for a in node.args if isinstance(a, ast.Name)}
                names |= {a.value.id for a in node.args if isinstance(a, ast.Subscript) and isinstance(a.value, ast.Name)}
    return names


@pytest.mark.parametrize("kind", ["orchestrator", "backend"])
def test_every_test_declares_the_runs_it_reads_and_every_run_has_a_test(kind: str) -> None:
    """Statically: a test that names a module-level run (h.finish(X), bk.shared(X), a helper) marks
    it, and every run a test module declares is marked on at least one of its tests."""
    problems: List[str] = []
    for path in sorted((SUITE / "tests" / kind).glob("test_*.py")):
        tree = ast.parse(path.read_text())
        module = __import__(f"mfx.compliance.tests.{kind}.{path.stem}", fromlist=["_"])
        constants = {name for name, value in vars(module).items() if isinstance(value, Spec)}
        containers = {name for name, value in vars(module).items() if isinstance(value, dict) and value and all(isinstance(v, Spec) for v in value.values())}
        marked: set = set()
        for func in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")):
            declared = _decorator_runs(func)
            marked |= declared
            used = {n.id for stmt in func.body for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id in constants | containers}
            if used - declared:
                problems.append(f"{path.name}::{func.name} reads {sorted(used - declared)} without @pytest.mark.{MARKER}")
        for name in marked & containers:  # a dict of runs marked case by case (parametrize) marks its members
            marked |= {c for c in constants if any(vars(module)[c] is v for v in vars(module)[name].values())}
        defined_here = {n.targets[0].id for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id in constants}
        if defined_here - marked:
            problems.append(f"{path.name} declares {sorted(defined_here - marked)} but no test marks them")
    assert not problems, "\n".join(problems)


def test_marks_of_other_names_are_ignored_and_bad_ones_raise() -> None:
    spec = Spec("k", "linear", "linear_flow")
    marks = [pytest.mark.capability("linear").mark, pytest.mark.mfx_run(spec).mark]
    assert list(_specs_of_marks(marks, "here")) == [spec]
    with pytest.raises(DeclarationError, match="here: @pytest.mark.mfx_run takes Spec objects"):
        list(_specs_of_marks([pytest.mark.mfx_run("linear_flow").mark], "here"))
    with pytest.raises(DeclarationError, match=r"here: @pytest.mark.mfx_run\(\) names no run"):
        list(_specs_of_marks([pytest.mark.mfx_run().mark], "here"))
