"""MFX202: ``--retry-count`` taken from a 1-based attempt counter without ``- 1``."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.orchestrator_command import retry_value_is_one_based
from mfx.analysis.orchestrator_project import strings_of
from mfx.rule import Invalid, Rule, Valid


class RetryCountOneBased(Rule):
    """## What it does
    Flags a ``--retry-count`` value that comes from a scheduler counter that starts at 1 —
    Airflow's ``try_number``, Prefect's ``run_count``, ``AWS_BATCH_JOB_ATTEMPT``, Temporal's
    ``activity.info().attempt`` — with no subtraction, directly or through local variables.

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
    # Applicability pre-check (mfx.applicability), sound because it reports uses of the
    # `--retry-count` option found in string values (escape sequences are covered by the engine, see
    # mfx.applicability)
    TRIGGERS = ("--retry-count",)
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
        )
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
    ]

    def visit_Module(self, node: cst.Module) -> None:
        if self.context.is_test:
            return  # tests run steps by hand on purpose
        for use in strings_of(node).option_uses("--retry-count"):
            if retry_value_is_one_based(use):
                self.report(use.fragment.node)
