"""MFX201: the task command passes a constant ``--retry-count``."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_command import constant
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class RetryCountHardCoded(ProjectRule):
    """## What it does
    Flags a ``--retry-count`` option of a task command whose value is a constant.

    The value may be in the same string (``"--retry-count=0"``, ``"--retry-count 0"``,
    generated code ``'"0"'``), the next list element, a ``%``/f-string operand, a local
    variable that only ever holds that constant, or a piece of a command assembled across
    statements and helpers (appended, concatenated, an option dict ``{"retry-count": 0}``, the
    click API's ``retry_count=0``), or a shell command written in a YAML/JSON workflow document,
    a shell template or a string constant (``--retry-count 0`` in a ``script: |`` block).

    ## Why is this bad?
    ``--retry-count`` is the 0-based attempt of the task. Metaflow decides from it whether
    ``@retry`` has attempts left, whether ``@catch`` handles the failure and whether ``@timeout``
    applies; with a constant every retry looks like the first attempt and ``@retry``/``@catch``
    never behave as declared (pitfall O15). Pass the scheduler's native 0-based attempt (for
    example ``{{retries}}``) — a constant is only right when the step has no retries, which a
    conditional expression makes explicit.

    ## Example
    ```python
    cmd = ["step", name, "--run-id", run_id, "--task-id", task_id, "--retry-count=0"]
    ```

    ## Use instead
    ```python
    retry_count = "{{retries}}" if total_retries else 0
    cmd = ["step", name, "--run-id", run_id, "--task-id", task_id, "--retry-count %s" % retry_count]
    ```
    """

    code = "MFX201"
    name = "retry-count-hard-coded"
    message = (
        "`--retry-count` is the constant {value}: pass the scheduler's 0-based attempt number so "
        "@retry, @catch and @timeout see retries"
    )
    pitfalls = ("O15",)

    VALID = [
        Valid(
            """
def step_cmd(node, run_id, task_id, total_retries):
    retry_count = "{{retries}}" if total_retries else 0
    return ["step", node.name, "--run-id %s" % run_id, "--task-id %s" % task_id,
            "--retry-count %s" % retry_count]

def sfn(node):
    # "--retry-count=0" would be wrong
    return "step %s --retry-count $((AWS_BATCH_JOB_ATTEMPT-1))" % node.name
"""
        ),
        Valid(
            """
def help_text():
    raise ValueError("--retry-count 0 is not allowed")
""",
            note="messages are not commands",
        ),
        Valid(
            {
                "orch/templates/job.yaml": """
command: [python, flow.py]
args: [step, start, --run-id, "{{workflow.uid}}", --task-id, "t-1", --retry-count, "{{retries}}"]
""",
                "orch/templates/build.yaml": """
script: |
  python setup.py step --run-id 1 --task-id 2 --retry-count 0
""",
            },
            note="the attempt placeholder; `setup.py` is no flow",
        ),
        Valid(
            {
                "orch/cmd.py": """
def step_cmd(flow, step, run_id, task_id, info):
    attempt = info.attempt - 1
    cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
    cmd.append("--retry-count")
    cmd.append(str(attempt))
    return cmd
""",
            },
            note='the 0-based attempt appended by separate statements',
        ),
    ]
    INVALID = [
        Invalid(
            """
def step_cmd(node, run_id):
    return ["step", node.name, "--run-id", run_id, "--retry-count=0"]
""",
            count=1,
        ),
        Invalid(
            """
def generated(node):
    lines = ['"step"', '"--retry-count"', '"0"']
    attempt = 0
    more = ["--retry-count", str(attempt), f"--retry-count {0}", "--retry-count=%d" % 0]
    return lines, more
""",
            count=4,
            note="generated code, traced variable, f-string, % operand",
        ),
        Invalid(
            {
                "orch/templates/workflow.yaml": """
spec:
  templates:
    - name: task
      script:
        source: |
          python flow.py --quiet step {{inputs.parameters.step}} \\
            --run-id {{workflow.uid}} --task-id t-{{pod.name}} \\
            --retry-count 0 --max-user-code-retries 0
"""
            },
            count=1,
            line=8,
            column=13,
            path="orch/templates/workflow.yaml",
            note="a shell command in a YAML script block",
        ),
        Invalid(
            {
                "orch/scripts.py": '''
STEP = """python {flow} step {step} --run-id {run_id} --task-id {task_id} \\\\
    --retry-count 0"""
'''
            },
            count=1,
            line=2,
            note="a module-level string constant holding the script",
        ),
        Invalid(
            {
                "orch/runner.py": '''
def task_script(flow, step, run_id, task_id):
    return f"""
set -e
python {flow} --quiet step {step} \\\\
    --run-id {run_id} --task-id {task_id} \\\\
    --retry-count 0
"""
'''
            },
            count=1,
            line=6,
            column=5,
            note="a multi-line shell string built in a function: reported on the option's own line",
        ),
        Invalid(
            {
                "orch/cmd.py": """
def to_args(opts):
    out = []
    for k, v in opts.items():
        out += ["--" + k, str(v)]
    return out


def step_cmd(flow, step, run_id, task_id):
    opts = {"run-id": run_id, "task-id": task_id, "retry-count": 0}
    return ["python", flow, "step", step] + to_args(opts)
""",
            },
            count=1,
            note='an option dict keyed without dashes, expanded by a helper',
        ),
        Invalid(
            {
                "orch/cmd.py": """
def step_cmd(flow, step, run_id, task_id):
    cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
    cmd.append("--retry-count")
    cmd.append("0")
    return cmd
""",
            },
            count=1,
            note='the option and its value appended by separate statements',
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        # every value the model knows for the option: assembled commands (across statements,
        # helpers, dicts, click kwargs, shell text) and pieces written in code strings
        seen: set[int] = set()
        for value in model_of(project).option_values("--retry-count"):  # tests run steps by hand: skipped
            text = value.literal if value.expr is None else constant(value.expr, value.func)
            if text is not None and text.strip().isdigit() and id(value.node) not in seen:
                seen.add(id(value.node))
                yield value.report(self.message.format(value=text.strip()))
