"""Graph shapes: branch, split inside a branch, foreach (one and several body steps), nested
foreach, switch, custom start/end names and the single-step flow."""

from __future__ import annotations

from typing import Any, List

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, task_data
from mfx.compliance.runspec import Spec


def _step_ids(run: Any) -> List[str]:
    return sorted(s.id for s in run)


def _task_count(run: Any, step: str) -> int:
    return len(list(run[step]))


def _endpoints(run: Any, start: str, end: str) -> None:
    """The run knows its real start and end steps (init wrote them; O20)."""
    assert run.end_task is not None and run.end_task.parent.id == end, pitfall(
        "O20", f"run.end_task is {run.end_task!r}, expected a task of {end!r}", fix="run init so _parameters records start_step/end_step"
    )
    assert run[start].task.successful


BRANCH = Spec("branch", "branch", "branch_flow")
@pytest.mark.capability("branch")
@pytest.mark.mfx_run(BRANCH)
def test_static_split_and_join(h: Harness) -> None:
    run = h.finish(BRANCH).run
    assert task_data(run, "join").labels == ["left", "right"], pitfall("O18", "the join did not get one input per branch")


SPLIT_IN_BRANCH = Spec("split_in_branch", "split-in-branch", "split_in_branch_flow")
@pytest.mark.capability("split-in-branch")
@pytest.mark.mfx_run(SPLIT_IN_BRANCH)
def test_split_inside_branch(h: Harness) -> None:
    run = h.finish(SPLIT_IN_BRANCH).run
    data = task_data(run, "outer_join")
    assert data.labels == ["a", "b"], pitfall("O18", f"outer join labels {data.labels}", fix="match each join to its own split (matching_join)")
    assert data.subs == ["x", "y"], pitfall("O18", f"inner join saw {data.subs}")
    _endpoints(run, "entry", "done")


FOREACH = Spec("foreach", "foreach", "foreach_flow")
@pytest.mark.capability("foreach")
@pytest.mark.mfx_run(FOREACH)
def test_foreach_fans_out_and_joins_in_order(h: Harness) -> None:
    run = h.finish(FOREACH).run
    assert _task_count(run, "body") == 3, pitfall("O18", f"{_task_count(run, 'body')} body tasks for 3 items", fix="one task per split, --split-index 0..n-1")
    assert sorted(t.index for t in run["body"]) == [0, 1, 2], pitfall("O18", "foreach split indexes are not 0, 1, 2")
    assert task_data(run, "join").values == [30, 10, 20], pitfall("O18", f"join saw {task_data(run, 'join').values}", fix="give the join every split's path")


MULTI_BODY = Spec("multi_body", "multi-body-foreach", "multi_body_foreach_flow")
@pytest.mark.capability("multi-body-foreach")
@pytest.mark.mfx_run(MULTI_BODY)
def test_foreach_with_two_body_steps(h: Harness) -> None:
    run = h.finish(MULTI_BODY).run
    assert _task_count(run, "first") == 3 and _task_count(run, "second") == 3, pitfall("O18", "body steps do not have one task per item")
    assert task_data(run, "join").texts == ["a12", "b12", "c12"], pitfall("O18", f"join saw {task_data(run, 'join').texts}")


NESTED2 = Spec("nested2", "nested-foreach", "nested_foreach_flow")
@pytest.mark.capability("nested-foreach")
@pytest.mark.mfx_run(NESTED2)
def test_nested_foreach_2x2(h: Harness) -> None:
    run = h.finish(NESTED2).run
    assert _task_count(run, "inner") == 4, pitfall("O18", f"{_task_count(run, 'inner')} inner tasks, expected 4")
    assert task_data(run, "outer_join").pairs == ["p1", "p2", "q1", "q2"], pitfall("O18", f"outer join saw {task_data(run, 'outer_join').pairs}")


NESTED3 = Spec("nested3", "nested-foreach", "nested_foreach_3level_flow", order=2)  # long: launched first
@pytest.mark.capability("nested-foreach")
@pytest.mark.mfx_run(NESTED3)
def test_nested_foreach_3_levels(h: Harness) -> None:
    run = h.finish(NESTED3).run
    assert _task_count(run, "three") == 8, pitfall("O18", f"{_task_count(run, 'three')} leaf tasks, expected 8")
    expected = [a + b + c for a in "ab" for b in "cd" for c in "ef"]
    assert task_data(run, "join1").paths == expected, pitfall("O18", f"join1 saw {task_data(run, 'join1').paths}")


SWITCH = Spec("switch", "switch", "switch_flow", params={"route": "low"})
@pytest.mark.capability("switch")
@pytest.mark.mfx_run(SWITCH)
def test_switch_runs_only_chosen_branch(h: Harness) -> None:
    run = h.finish(SWITCH).run
    assert "high" not in _step_ids(run) and _task_count(run, "low") == 1, pitfall(
        "O25", f"steps that ran: {_step_ids(run)}", fix="read the chosen case from the task's transition, run only that branch"
    )
    assert _task_count(run, "merge") == 1 and task_data(run, "merge").final == "took-low", pitfall("O25", "merge step did not run once with the low branch's data")


CUSTOM_NAMES = Spec("custom_names", "custom-step-names", "custom_names_flow")
@pytest.mark.capability("custom-step-names")
@pytest.mark.mfx_run(CUSTOM_NAMES)
def test_custom_start_and_end_names(h: Harness) -> None:
    run = h.finish(CUSTOM_NAMES).run
    assert _step_ids(run) == ["begin", "finish", "process"], pitfall("O20", f"steps {_step_ids(run)}", fix="use graph start_step/end_step, never 'start'/'end'")
    assert task_data(run, "finish").trail == ["begin", "process", "finish"]
    _endpoints(run, "begin", "finish")


SINGLE_STEP = Spec("single_step", "single-step", "single_step_flow")
@pytest.mark.capability("single-step")
@pytest.mark.mfx_run(SINGLE_STEP)
def test_single_step_flow(h: Harness) -> None:
    run = h.finish(SINGLE_STEP).run
    assert _step_ids(run) == ["only"], pitfall("O20", f"steps {_step_ids(run)}")
    assert task_data(run, "only").answer == 42
    _endpoints(run, "only", "only")
