"""docs/third-party-results.md is in step with the recorded runs (docs/third-party/results.json, written
by `nox -s third_party`) and the hand-kept verdicts (docs/third-party/verdicts.toml): every recorded
failure has a verdict (a real gap, with the place in the extension's source), no verdict is stale, and
no false alarm of the suite stands unfixed. Offline: the runs themselves need PyPI."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("third_party_compliance", ROOT / "tools" / "third_party_compliance.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("third_party_compliance", module)
    spec.loader.exec_module(module)
    return module


tool = _tool()


def test_document_is_in_step_and_every_failure_has_a_verdict() -> None:
    results = json.loads(tool.RESULTS.read_text(encoding="utf-8"))
    verdicts = tool.load_verdicts()
    assert tool.unexplained(results, verdicts) == []
    assert tool.DOC.read_text(encoding="utf-8") == tool.render(results, verdicts), (
        "docs/third-party-results.md is out of step: run `python tools/third_party_compliance.py doc`"
    )


def test_at_least_two_extensions_were_run_through_the_suite() -> None:
    results = json.loads(tool.RESULTS.read_text(encoding="utf-8"))
    assert set(results) == set(tool.EXTENSIONS) and len(results) >= 2
    for name, res in results.items():
        assert res["version"] == tool.EXTENSIONS[name]["version"], f"{name}: recorded with other pins than the tool's"
        assert res["tests"], f"{name}: the recorded run holds no test"


def _results(*outcomes: str) -> dict:
    tests = [{"capability": "linear", "level": "required", "test": f"test_{i}", "outcome": o, "headline": "[O18 x] y"} for i, o in enumerate(outcomes)]
    return {"acme": {"package": "metaflow-acme", "version": "1", "engine": ["acme"], "metaflow": "metaflow", "declared": [],
                     "seconds": 1, "exit_code": 1, "problem": None, "leftovers": [], "matrix": {"linear": "FAILED"}, "tests": tests}}


GAP = {"source": "metaflow_extensions/acme/cli.py:12", "why": "trigger blocks until the run ends"}


@pytest.mark.parametrize(
    "results, verdicts, expected",
    [
        (_results("failed"), {}, "without a verdict"),
        (_results("error"), {}, "without a verdict"),
        (_results("failed"), {"gap": {"acme": {"test_0": {"why": "x"}}}}, "needs source"),
        (_results("failed"), {"gap": {"acme": {"test_0": {"source": "cli.py", "why": "x"}}}}, "needs source"),
        (_results("passed"), {"gap": {"acme": {"test_0": GAP}}}, "stale"),
        (_results("passed"), {"false_alarm": [{"extension": "acme", "test": "test_0", "what": "wrong headline"}]}, "is not fixed"),
    ],
)
def test_verdict_problems_are_found(results: dict, verdicts: dict, expected: str) -> None:
    found = tool.unexplained(results, verdicts)
    assert len(found) == 1 and expected in found[0]


def test_a_failure_with_its_verdict_is_rendered_with_its_place() -> None:
    results, verdicts = _results("failed", "passed"), {"gap": {"acme": {"test_0": GAP}}}
    assert tool.unexplained(results, verdicts) == []
    text = tool.render(results, verdicts)
    assert "| `test_0` | [O18 x] y | real gap: trigger blocks until the run ends | `metaflow_extensions/acme/cli.py:12` |" in text
    assert "test_1" not in text.split("### Failures and verdicts")[1], "a passing test is no failure"


def test_the_record_keeps_no_path_of_this_machine() -> None:
    """results.json is committed: the tool wrote it through sanitize (placeholders, never this machine's paths)."""
    text = tool.RESULTS.read_text(encoding="utf-8")
    for root, label in tool.machine_roots(Path.home() / ".cache" / "mfx" / "third-party"):
        assert f"{root}/" not in text and f"{root}'" not in text, f"results.json keeps {label} as {root}"


def test_sanitize_replaces_every_machine_root_with_its_placeholder(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    roots = tool.machine_roots(cache)
    tmp = tool.tempfile.gettempdir()
    flows = f"{tmp}/mfx-flows-x1y2/flows/orchestrator/branch_flow.py"
    record = {
        "headline": f"'{cache}/venv-a/bin/python {flows} --no-pylint a trigger --deployer-attribute-file {tmp}/tmpq9/attr'",
        "leftovers": [f"pid 1: {tool.ROOT}/checker/x.py", f"{Path.home()}/.metaflow/Flow/1", f"{tmp}"],
        "n": 3,
        "nested": {"k": [f"cwd={tmp}/w-1: ok"]},
    }
    clean = tool.sanitize(record, roots)
    assert clean["headline"] == "'<cache>/venv-a/bin/python <flows>/flows/orchestrator/branch_flow.py --no-pylint a trigger --deployer-attribute-file <tmp>'"
    assert clean["leftovers"] == ["pid 1: <checkout>/checker/x.py", "<home>/.metaflow/Flow/1", "<tmp>"]
    assert clean["n"] == 3 and clean["nested"] == {"k": ["cwd=<tmp>: ok"]}
    # a longer name that merely starts like a root is another directory: left alone
    assert tool.sanitize(f"{tmp}x/file", roots) == f"{tmp}x/file"
    assert tool.sanitize(f"{cache}-old/y", roots) == "<tmp>", "a sibling of the cache is no part of it"
    assert tool.sanitize(clean, roots) == clean, "idempotent"


def _summary(seconds: int, **outcomes: str) -> dict:
    tests = [{"capability": f"cap-{t[-1]}", "level": "required", "test": t, "outcome": o} for t, o in outcomes.items()]
    return {"package": "metaflow-acme", "version": "1", "engine": ["acme"], "metaflow": "metaflow", "declared": [], "seconds": seconds,
            "exit_code": 1, "interrupted": False, "problem": None, "leftovers": [], "matrix": tool._matrix(tests), "tests": tests}


def test_merge_keeps_what_a_partial_run_did_not_reach() -> None:
    first = _summary(100, test_a="failed", test_b="not run", test_c="not run")
    first["interrupted"] = True
    second = _summary(50, test_a="not run", test_b="passed", test_c="failed")
    second["select"] = "-k 'not test_a'"
    merged = tool.merge(tool.merge(None, first), second)
    assert [(t["test"], t["outcome"]) for t in merged["tests"]] == [("test_a", "failed"), ("test_b", "passed"), ("test_c", "failed")]
    assert merged["matrix"] == {"cap-a": "FAILED", "cap-b": "passed", "cap-c": "FAILED"}
    assert merged["seconds"] == 150 and not merged["interrupted"], "every test reached: not interrupted any more"
    assert [p["seconds"] for p in merged["parts"]] == [100, 50]
    # other pins: the old record is replaced, never mixed in
    other = {**second, "version": "2"}
    assert tool.merge(merged, other)["tests"] == other["tests"]


def test_merge_drops_a_recorded_test_the_suite_no_longer_has() -> None:
    first = _summary(100, test_a="passed", test_gone="not run")
    first["interrupted"] = True
    second = _summary(50, test_new="passed")  # a partial run (-k test_new) of a suite that has test_a, test_new
    merged = tool.merge(tool.merge(None, first), second, known={"test_a", "test_new"})
    assert [(t["test"], t["outcome"]) for t in merged["tests"]] == [("test_a", "passed"), ("test_new", "passed")]
    assert not merged["interrupted"], "the test that was never reached is gone from the suite"
    # parametrized ids are matched by their function; the default is this checkout's suite
    assert "test_timeout_is_enforced" in tool.suite_tests() and "test_event_flow_deploys" not in tool.suite_tests()
    param = _summary(10, **{"test_t[x]": "passed"})
    assert [t["test"] for t in tool.merge(tool.merge(None, param), _summary(5), known={"test_t"})["tests"]] == ["test_t[x]"]


def test_a_test_not_run_for_a_reason_does_not_keep_the_record_interrupted() -> None:
    first = _summary(100, test_a="passed", test_b="not run")
    first["interrupted"] = True
    second = _summary(50, test_a="not run", test_b="not run")
    second["tests"][1]["reason"] = "not run: engine_address_env is not set"
    assert not tool.merge(tool.merge(None, first), second)["interrupted"]
    assert tool.merge(tool.merge(None, first), {**second, "tests": [dict(t, reason="") for t in second["tests"]]})["interrupted"]


def test_a_failure_matching_a_fixed_false_alarm_is_explained_as_such() -> None:
    results = _results("failed", "failed")
    alarm = {"extension": "metaflow-acme", "test": "(creates)", "what": "a fixed bound", "fixed_by": "the bound scales", "headline": r"^\[O18 "}
    verdicts = {"false_alarm": [alarm], "gap": {"acme": {"test_1": GAP}}}
    assert tool.unexplained(results, verdicts) == []
    text = tool.render(results, verdicts)
    assert "| `test_0` | [O18 x] y | false alarm of the suite, fixed (the bound scales)" in text
    # not for another extension, not without its fix, not for another headline
    for other in ({**alarm, "extension": "metaflow-other"}, {**alarm, "fixed_by": ""}, {**alarm, "headline": "^O1 "}):
        found = tool.unexplained(results, {"false_alarm": [other], "gap": {"acme": {"test_1": GAP}}})
        assert any("test_0" in line and "without a verdict" in line for line in found)
