"""MFX202: ``--retry-count`` taken from a 1-based attempt counter without ``- 1``."""

from __future__ import annotations

from typing import Iterator

from mfx.analysis.orchestrator_command import value_is_one_based
from mfx.analysis.orchestrator_project import option_values
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class RetryCountOneBased(ProjectRule):
    """## What it does
    Flags a ``--retry-count`` value that comes from a scheduler counter that starts at 1 —
    Airflow's ``try_number``, Prefect's ``run_count``, ``AWS_BATCH_JOB_ATTEMPT``, Temporal's
    ``activity.info().attempt`` — with no subtraction, directly or through local variables.
    The value may be written next to the option in a code string or list, or reach a task
    command assembled across statements and helper functions (the project's command model).

    ## Why is this bad?
    Metaflow's retry count is 0-based. Passing the 1-based attempt makes the first attempt look
    like a retry: ``@catch`` replaces the user code with its fallback and ``@timeout`` is
    disabled whenever the count exceeds ``--max-user-code-retries`` (pitfall O15).

    ## Example
    ```python
    attempt = ti.try_number
    cmd += ["--retry-count", str(attempt)]
    ```

    ## Use instead
    ```python
    cmd += ["--retry-count", str(max(0, ti.try_number - 1))]
    ```

    ## Known problems
    Only the listed counter names are recognised.
    """

    code = "MFX202"
    name = "retry-count-one-based"
    message = (
        "`--retry-count` comes from a 1-based attempt counter: subtract 1 (Metaflow counts "
        "attempts from 0)"
    )
    pitfalls = ("O15",)

    VALID = [
        Valid(
            """
def cmd(ti, info):
    a = ["--retry-count", str(max(0, ti.try_number - 1))]
    b = "--retry-count $((AWS_BATCH_JOB_ATTEMPT-1))"
    n = info.attempt - 1
    c = f"--retry-count {n}"
    return a, b, c
"""
        ),
        Valid(
            """
def build(ti, run_id, task_id):
    cmd = ["step", "start", "--run-id", run_id, "--task-id", task_id, "--retry-count"]
    cmd.append(str(ti.try_number - 1))
    return cmd
""",
            note="the value appended by another statement, with the subtraction",
        ),
        Valid(
            {
                "tests/test_cmd.py": 'def test_cmd(ti):\n    assert ["--retry-count", str(ti.try_number)]\n',
            },
            note="tests run steps by hand on purpose",
        ),
    ]
    INVALID = [
        Invalid(
            """
def cmd(ti):
    attempt = ti.try_number
    return ["step", "a", "--retry-count", str(attempt)]
""",
            count=1,
        ),
        Invalid(
            """
from temporalio import activity

def cmd():
    return [f"--retry-count={activity.info().attempt}", "--retry-count $AWS_BATCH_JOB_ATTEMPT"]
""",
            count=2,
        ),
        Invalid(
            """
def build(ti, run_id, task_id):
    cmd = ["step", "start", "--run-id", run_id, "--task-id", task_id, "--retry-count"]
    cmd.append(str(ti.try_number))
    return cmd
""",
            count=1,
            line=2,
            note="the value appended by another statement (the command model)",
        ),
        Invalid(
            {
                "ext/opts.py": """
def retry_opts(ti):
    n = ti.try_number
    opts = ["--retry-count"]
    opts += [str(n)]
    return opts
""",
                "ext/build.py": """
from .opts import retry_opts

def build(ti, run_id, task_id):
    return ["step", "start", "--run-id", run_id, "--task-id", task_id] + retry_opts(ti)
""",
            },
            count=1,
            path="ext/opts.py",
            line=3,
            note="options from a helper in another module, the value through a local",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterator[Report]:
        for value in option_values(project, "--retry-count"):  # tests run steps by hand: skipped
            if value_is_one_based(value.literal, value.text, value.expr, value.func):
                yield self.report(value.node, path=value.path)
