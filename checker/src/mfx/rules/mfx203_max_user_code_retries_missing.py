"""MFX203: a ``step`` command built without ``--max-user-code-retries``."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.orchestrator_command import step_builders
from mfx.analysis.orchestrator_project import strings_of
from mfx.rule import Invalid, Rule, Valid


class MaxUserCodeRetriesMissing(Rule):
    """## What it does
    Flags a function that builds a Metaflow ``step`` command (the token ``step`` together with
    ``--run-id`` and ``--task-id``) in a module that never passes ``--max-user-code-retries``.

    ## Why is this bad?
    The option defaults to 0. ``@catch`` then handles the failure of the first attempt instead
    of letting ``@retry`` retry, ``@timeout`` is disabled on retries, and on a retry ``@catch``
    skips the user code entirely (pitfall O16). Pass
    ``max(d.step_task_retry_count()[0] for d in node.decorators)`` on every attempt.

    ## Example
    ```python
    cmd = ["step", node.name, "--run-id", run_id, "--task-id", task_id,
           "--retry-count", attempt]
    ```

    ## Use instead
    ```python
    user_retries = max([d.step_task_retry_count()[0] for d in node.decorators] or [0])
    cmd = ["step", node.name, "--run-id", run_id, "--task-id", task_id,
           "--retry-count", attempt, "--max-user-code-retries", str(user_retries)]
    ```

    ## Known problems
    A task-command builder is recognised by literal option names (the token ``step`` with
    ``--run-id`` and ``--task-id``); builders that pass options as a dict (``{"run-id": ...}``,
    like Metaflow's ``CLIArgs``) are not recognised, and the rule stays silent for them.
    """

    code = "MFX203"
    # Applicability pre-check (mfx.applicability), sound because it reports step command builders,
    # which are recognised by the `--task-id` option in string values (escape sequences are covered
    # by the engine, see mfx.applicability)
    TRIGGERS = ("--task-id",)
    name = "max-user-code-retries-missing"
    message = (
        "this `step` command has no `--max-user-code-retries`: pass the step's user-code retry "
        "budget (max of `deco.step_task_retry_count()[0]`) or @retry/@catch/@timeout misbehave"
    )
    pitfalls = ("O16",)

    VALID = [
        Valid(
            """
def step_cmd(node, run_id, task_id, user_code_retries):
    return ["step", node.name, "--run-id %s" % run_id, "--task-id %s" % task_id,
            "--retry-count {{retries}}", "--max-user-code-retries %d" % user_code_retries]
"""
        ),
        Valid(
            """
def describe():
    # "step" --run-id --task-id in a comment
    return "step"
""",
            note="not a command builder",
        ),
    ]
    INVALID = [
        Invalid(
            """
def step_cmd(node, run_id, task_id):
    # "--max-user-code-retries" is only mentioned in this comment
    return ["step", node.name, "--run-id", run_id, "--task-id", task_id, "--retry-count", "{{retries}}"]
""",
            count=1,
        )
    ]

    def visit_Module(self, node: cst.Module) -> None:
        if self.context.is_test:
            return  # tests run steps by hand on purpose
        strings = strings_of(node)
        if strings.option_uses("--max-user-code-retries"):
            return
        for _, anchor in step_builders(strings):
            self.report(anchor.node)
