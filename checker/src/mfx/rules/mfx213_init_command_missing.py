"""MFX213: tasks are launched but ``init`` is never run."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_project import EXAMPLE_BUILDER, absent_reports
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

#: ``init`` followed by its options inside one command string.
_INIT = re.compile(r"(^|\s)init\s+--")


class InitCommandMissing(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but no ``init`` command (a list
    element ``"init"``, or ``init --...`` inside a command string).

    ## Why is this bad?
    ``init`` registers the run and writes the ``_parameters`` task: the parameter values, and
    the ``start_step``/``end_step`` metadata that ``Run.successful``, ``Run.finished`` and
    ``Run.end_task`` depend on. Without it parameters are lost, the start step has no valid
    input path and custom start/end names are ignored (pitfall O20). Run it once per run before
    the start step, guarded so that a retried start task does not run it again.

    ## Example
    ```python
    cmds = [step_command(node) for node in graph]
    ```

    ## Use instead
    ```python
    init = [python, flow_file, *top, "init", "--run-id", run_id, "--task-id", params_task_id]
    ```

    ## Known problems
    Presence is checked project-wide: a channel set for one task command counts for all of
    them. Task commands are recognised by the command model (lists, appends, string formatting,
    helpers, option dicts, the click API, shell commands in YAML/JSON documents, shell templates
    and string constants); a command assembled in a shape it does not follow
    (for example from an attribute set in another method) is not checked.
    """

    code = "MFX213"
    name = "init-command-missing"
    message = (
        "tasks are launched but no `init` command is ever built: run `init --run-id R --task-id P` "
        "once per run and start from `R/_parameters/P`"
    )
    pitfalls = ("O20",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/init.py": 'def init(top, rid):\n    return top + ["init", "--run-id", rid, "--task-id", "params"]\n',
            }
        ),
        Valid(
            {
                "orch/launch.py": """
def init_cmd(api, run_id):
    return api(quiet=True).init(run_id=run_id, task_id="_parameters")


def step_command(api, run_id, step, task_id, attempt, retries):
    return api(quiet=True).step(
        step_name=step, run_id=run_id, task_id=task_id, retry_count=attempt, max_user_code_retries=retries
    )
""",
            },
            note="`init` through Metaflow's click API (no string `init` anywhere)",
        ),
    ]
    INVALID = [
        Invalid({"orch/compiler.py": EXAMPLE_BUILDER + '\nNOTE = "run init first"\n'}, count=1),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        model = model_of(project)
        # an assembled `init` command, or the token written in code (generated code, a template)
        present = any(c.subcommand == "init" for c in model.commands()) or any(
            frag.text.strip() == "init" or _INIT.search(frag.text) for _, frag in model.written(("init",))
        )
        return absent_reports(project, present, self.message)
