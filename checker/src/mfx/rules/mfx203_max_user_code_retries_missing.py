"""MFX203: a ``step`` command built without ``--max-user-code-retries``."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_project import builders, report_at
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class MaxUserCodeRetriesMissing(ProjectRule):
    """## What it does
    Flags a command builder whose ``step`` command has no ``--max-user-code-retries``.

    A command builder is a function that assembles a Metaflow ``step`` command: the token
    ``step`` together with ``--run-id`` and ``--task-id``, in any shape the command model
    follows (list displays, appends across statements, string formatting, helper functions of
    the project, option dicts such as ``{"run-id": r}``, Metaflow's click API), or written as
    shell text or an argument list in a YAML/JSON workflow document, a shell template or a string
    constant (``python flow.py step ... --run-id ...`` in a ``script: |`` block).

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
    When the builder's command does not show the option but its module names
    ``--max-user-code-retries`` somewhere the model did not follow, the rule stays silent.
    """

    code = "MFX203"
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
        Valid(
            {
                "orch/cmd.py": """
def to_args(opts):
    out = []
    for k, v in opts.items():
        out += ["--" + k, str(v)]
    return out


def step_cmd(flow, step, run_id, task_id, attempt, retries):
    opts = {"run-id": run_id, "task-id": task_id, "retry-count": attempt, "max-user-code-retries": retries}
    return ["python", flow, "step", step] + to_args(opts)
""",
            },
            note='the option given as a dict key without dashes, expanded by a helper',
        ),
        Valid(
            {
                "orch/cmd.py": """
def step_command(api, run_id, step, task_id, attempt, retries):
    return api(quiet=True).step(
        step_name=step, run_id=run_id, task_id=task_id, retry_count=attempt, max_user_code_retries=retries
    )
""",
            },
            note="Metaflow's click API: the option as a keyword",
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
        ),
        Invalid(
            {
                "orch/templates/task.sh.j2": """
#!/bin/bash
{{ python }} {{ flow_file }} --quiet \\
{% if branch %}
  --branch {{ branch }} \\
{% endif %}
  step {{ step }} --run-id {{ run_id }} --task-id {{ task_id }} \\
  --retry-count $((ATTEMPT - 1))
"""
            },
            count=1,
            line=6,
            note="a Jinja shell template",
        ),
        Invalid(
            {
                "orch/cmd.py": """
def base(flow, step):
    return ["python", flow, "step", step]


def step_cmd(flow, step, run_id, task_id, attempt):
    cmd = base(flow, step)
    cmd += ["--run-id", run_id]
    cmd.extend(["--task-id", task_id, "--retry-count", attempt])
    return cmd
""",
            },
            count=1,
            note='assembled across statements and a helper, without the option',
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        option = "--max-user-code-retries"
        model = model_of(project)
        for b in builders(project):
            if b.command is not None and b.command.has_option(option):
                continue
            # A mention the model did not assemble into a command may still reach it: silent.
            if model.written_outside_commands(b.file, option):
                continue
            yield report_at(b, self.message)
