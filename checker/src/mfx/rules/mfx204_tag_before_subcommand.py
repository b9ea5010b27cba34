"""MFX204: ``--tag`` placed among the top-level options, before ``step``/``init``."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.command_model import model_of
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class TagBeforeSubcommand(ProjectRule):
    """## What it does
    Flags ``--tag`` placed before the ``step`` or ``init`` sub-command of a task command.

    The command may be one string or list display, or assembled across statements and helpers:
    ``--tag`` appended or inserted before the sub-command, concatenated lists, an option dict
    expanded before it, the top-level call of Metaflow's click API, or a shell command or argument
    list in a YAML/JSON workflow document, a shell template or a string constant.

    ## Why is this bad?
    ``--tag`` is an option of ``init``, ``step`` and ``run`` only; Metaflow's top level has no
    such option, so the task fails with ``no such option: --tag`` (pitfall O29). Tags given to
    ``create(tags=...)`` belong after the sub-command of every ``init`` and ``step``.

    ## Example
    ```python
    cmd = [python, flow_file, "--quiet", "--tag", tag, "step", name, "--run-id", run_id]
    ```

    ## Use instead
    ```python
    cmd = [python, flow_file, "--quiet", "step", name, "--run-id", run_id, "--tag", tag]
    ```

    """

    code = "MFX204"
    name = "tag-before-subcommand"
    message = (
        "`--tag` comes before the `step`/`init` sub-command: Metaflow has no top-level --tag; "
        "put it after the sub-command"
    )
    pitfalls = ("O29",)

    VALID = [
        Valid(
            """
def cmds(tags, name, run_id):
    step = ["step", name, "--run-id %s" % run_id]
    step.extend("--tag %s" % t for t in tags)
    init = "python flow.py --quiet init --run-id %s --tag %s" % (run_id, tags[0])
    tagged = ["step", name, "--tag", "step", "--run-id", run_id]
    return step, init, tagged
"""
        ),
        Valid(
            {
                "orch/cmd.py": """
def step_cmd(flow, step, run_id, task_id, tags):
    cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
    for t in tags:
        cmd += ["--tag", t]
    return cmd
""",
            },
            note='tags appended after the sub-command by another statement',
        ),
    ]
    INVALID = [
        Invalid(
            """
def cmds(tag, name, run_id):
    a = ["python", "flow.py", "--quiet", "--tag", tag, "step", name, "--run-id", run_id]
    b = f"python flow.py --tag {tag} init --run-id {run_id}"
    return a, b
""",
            count=2,
        ),
        Invalid(
            {
                "orch/spec/task.json": """
{"name": "start",
 "args": ["python", "flow.py", "--quiet",
          "--tag", "${TAG}",
          "step", "start", "--run-id", "${RUN_ID}", "--task-id", "t-${TASK}"]}
"""
            },
            count=1,
            line=3,
            column=12,
            note="a JSON task spec's argument list",
        ),
        Invalid(
            {
                "orch/cmd.py": """
def step_cmd(flow, step, run_id, task_id, tags):
    cmd = ["python", flow]
    for t in tags:
        cmd += ["--tag", t]
    cmd.append("step")
    cmd += [step, "--run-id", run_id, "--task-id", task_id]
    return cmd
""",
            },
            count=1,
            note='`--tag` appended before `step`, each by its own statement',
        ),
        Invalid(
            {
                "orch/templates/task.sh": """
#!/bin/bash
set -e
python "$FLOW" --quiet --tag "$TAG" \\
  step "$STEP" --run-id "r-$RUN" --task-id "t-$TASK"
""",
            },
            count=1,
            note='a shell script template',
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        model = model_of(project)
        seen: set[int] = set()
        # written in one string or list display (the model may not have assembled the command)
        for path, node, word in model.written_before_sub("--tag"):
            if id(node) not in seen:
                seen.add(id(node))
                yield Report(node, self.message, path=path, word=word)
        # the assembled commands: pieces appended across statements, helpers, option dicts
        for command in model.commands():
            for piece in command.before_sub("--tag"):
                if id(piece.node) not in seen:
                    seen.add(id(piece.node))
                    yield piece.report(self.message)
