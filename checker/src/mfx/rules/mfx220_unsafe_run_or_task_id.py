"""MFX220: a run or task id that is numeric or contains Metaflow's path delimiters."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from mfx.analysis.command_model import OptionValueAt, model_of
from mfx.analysis.orchestrator_command import PLACEHOLDER, constant, expression_parts
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_DELIMITERS = re.compile(r"[:,/]|^!")


class UnsafeRunOrTaskId(ProjectRule):
    """## What it does
    Flags a ``--run-id`` or ``--task-id`` value that is a number (a digit-only constant, or
    ``str(int(...))``/``str(len(...))``/``uuid.uuid4().int``/``int(time.time())``), or that
    contains ``:``, ``,`` or ``/`` (a constant, or a timestamp's ``isoformat()``).

    ## Why is this bad?
    With Metaflow's metadata service, numeric ids are taken as service-issued and the run or
    task is never registered; and ``,`` ``:`` ``/`` (and a leading ``!``) are the delimiters of
    Metaflow's compressed input paths, so such ids garble ``--input-paths`` (pitfall O19).
    Prefix ids and hash or sanitise scheduler values, as Argo does with ``argo-<name>`` and
    ``t-<md5>``.

    ## Example
    ```python
    cmd += ["--run-id", str(int(time.time())), "--task-id", "1"]
    ```

    ## Use instead
    ```python
    cmd += ["--run-id", "myorch-%s" % execution_id, "--task-id", "t-%s" % digest[:12]]
    ```
    """

    code = "MFX220"
    name = "unsafe-run-or-task-id"
    message = (
        "`{option}` value {why}: numeric ids are not registered by the metadata service and "
        "`, : /` break input paths; use a prefixed, sanitised id (e.g. 't-<hash>')"
    )
    pitfalls = ("O19",)

    VALID = [
        Valid(
            """
import hashlib

def cmd(execution_id, name):
    tid = "t-" + hashlib.md5(name.encode()).hexdigest()[:12]
    return ["--run-id", "myorch-%s" % execution_id, "--task-id", tid, "--task-id %s-params" % tid]
"""
        ),
        Valid(
            {
                "orch/cmd.py": """
import hashlib


def step_cmd(flow, step, run_id, name):
    cmd = ["python", flow, "step", step, "--run-id", run_id]
    cmd.append("--task-id")
    cmd.append("t-" + hashlib.md5(name.encode()).hexdigest()[:12])
    return cmd
""",
            },
            note='a prefixed hash appended by separate statements',
        ),
    ]
    INVALID = [
        Invalid(
            """
import time, uuid, datetime

def cmd(run_ts):
    a = ["--run-id", str(int(time.time())), "--task-id", "1"]
    b = "--task-id=%s" % uuid.uuid4().int
    c = f"--run-id manual__{datetime.datetime.now().isoformat()}"
    return a, b, c
""",
            count=4,
        ),
        Invalid(
            {
                "orch/cmd.py": """
def step_cmd(flow, step, run_id, xs):
    cmd = ["python", flow, "step", step, "--run-id", run_id]
    cmd.append("--task-id")
    cmd.append(str(len(xs)))
    return cmd
""",
            },
            count=1,
            note='a number appended by separate statements',
        ),
        Invalid(
            {
                "orch/cmd.py": """
import time


def to_args(opts):
    out = []
    for k, v in opts.items():
        out += ["--" + k, str(v)]
    return out


def step_cmd(flow, step):
    opts = {"run-id": str(int(time.time())), "task-id": "t-1"}
    return ["python", flow, "step", step] + to_args(opts)
""",
            },
            count=1,
            note='an option dict keyed without dashes, expanded by a helper',
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        # Every value the command model knows for the ids: written next to the option, appended
        # by another statement, returned by a helper (of any module), a dict entry or a click
        # kwarg. Test files are not in the model: tests run steps by hand on purpose.
        model = model_of(project)
        for option in ("--run-id", "--task-id"):
            for value in model.option_values(option):
                why = self._problem(value)
                if why:
                    yield value.report(self.message.format(option=option, why=why))

    @staticmethod
    def _problem(use: OptionValueAt) -> str | None:
        value = use.literal if use.literal is not None else constant(use.expr, use.func)
        if value is not None:
            value = value.strip()
            if value.isdigit():
                return f"is the number {value}"
            if _DELIMITERS.search(value) and "$" not in value and "{" not in value:
                return "contains a delimiter ({})".format(value.replace(PLACEHOLDER, "{}"))
            if PLACEHOLDER not in value:
                return None
        if use.expr is None:
            return None
        expr = use.expr
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "str" and expr.args:
            expr = expr.args[0].value
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("int", "len"):
            return "is a number"
        if isinstance(expr, cst.Attribute) and expr.attr.value == "int":
            return "is a number"
        for part in expression_parts(use.expr, use.func, depth=1):
            if isinstance(part, cst.Attribute) and part.attr.value == "isoformat":
                return "contains ':' (an ISO timestamp)"
        return None
