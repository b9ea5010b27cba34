"""MFX304: the inner ``step`` command is built by hand instead of from the parsed options (B5)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import string_value
from mfx.rule import Invalid, Valid

#: Top-level options of ``python flow.py`` that dict_to_cli_options(ctx.parent.parent.params) forwards.
_TOP_LEVEL = ("--datastore", "--metadata", "--environment", "--datastore-root", "--event-logger", "--monitor")


def _literal_prefix(node: cst.BaseExpression) -> str | None:
    value = string_value(node)
    if value is not None:
        return value
    if isinstance(node, cst.FormattedString):
        head = node.parts[0] if node.parts else None
        if isinstance(head, cst.FormattedStringText):
            return head.value
    return None


class InnerStepCommandByHand(BackendFileRule):
    """## What it does
    Flags a command list that contains the literal ``"step"`` next to hard-coded top-level
    options (``"--datastore=s3"``, ``"--metadata=…"``, ``"--environment=…"``), and slices of
    ``sys.argv`` around ``.index("step")``.

    ## Why is this bad?
    The remote ``python flow.py … step …`` must carry every top-level option of the launcher:
    ``--metadata``, ``--environment``, ``--with`` decorators, ``--config-value``,
    ``--datastore-root``, event logger and monitor. Metaflow's backends rebuild it with
    ``util.dict_to_cli_options(ctx.parent.parent.params)`` in the trampoline, which also rewrites
    ``Config`` values for the code package. A hand-built command silently drops these: the
    remote ignores ``--with retry``, ``Config`` values and the datastore root (pitfall B5;
    metaflow-gha's worker).

    ## Example
    ```python
    cmd = [sys.executable, flow_file, "--datastore=s3", "--no-pylint", "step", step_name]
    ```

    ## Use instead
    ```python
    top_args = " ".join(util.dict_to_cli_options(ctx.parent.parent.params))
    step_args = " ".join(util.dict_to_cli_options(kwargs))
    step_cli = f"{executable} -u {os.path.basename(sys.argv[0])} {top_args} step {step_name} {step_args}"
    ```
    """

    code = "MFX304"
    # Applicability pre-check (mfx.applicability), sound because both findings need a string value
    # equal to `step` (a list element next to a top-level option, or `sys.argv.index('step')`);
    # escape sequences are covered by the engine, see mfx.applicability
    TRIGGERS = ('"step"', "'step'")
    name = "inner-step-command-by-hand"
    message = (
        "inner `step` command built by hand: it drops --metadata/--environment/--with/--config-value; "
        "build it from `util.dict_to_cli_options(ctx.parent.parent.params)` and `dict_to_cli_options(kwargs)`"
    )
    pitfalls = ("B5",)
    applies_to_core = True

    VALID = [
        Valid(
            """
import os, sys
from metaflow import util

def build(ctx, executable, step_name, kwargs):
    return "{e} -u {f} {top} step {s} {args}".format(
        e=executable,
        f=os.path.basename(sys.argv[0]),
        top=" ".join(util.dict_to_cli_options(ctx.parent.parent.params)),
        s=step_name,
        args=" ".join(util.dict_to_cli_options(kwargs)),
    )
"""
        ),
        Valid(
            """
cmd = ["kubectl", "step", "--namespace", "x"]
help_text = "run --datastore=s3 step start"
""",
            note="no hard-coded top-level option next to step; a help string is not a command",
        ),
    ]
    INVALID = [
        Invalid(
            """
import sys

def _build_step_command(task, flow_file):
    cmd = [
        sys.executable,
        flow_file,
        "--datastore=s3",
        "--no-pylint",
        "step",
        task["step_name"],
        f"--run-id={task['run_id']}",
    ]
    return cmd
""",
            count=1,
        ),
        Invalid(
            """
import sys

def inner():
    i = sys.argv.index("step")
    return [sys.executable] + sys.argv[i:]

def inner2():
    return sys.argv[sys.argv.index("step") + 1:]
""",
            count=1,
            note="only the direct slice around index('step') is recognised",
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for lst in find_nodes(module, cst.List):
            prefixes = [_literal_prefix(e.value) for e in lst.elements]
            if "step" in prefixes and any(
                p is not None and any(p == o or p.startswith(o + "=") for o in _TOP_LEVEL) for p in prefixes
            ):
                self.report(lst)
        for sub in find_nodes(module, cst.Subscript):
            if model.imports.resolve(sub.value) != "sys.argv":
                continue
            for call in find_nodes(sub, cst.Call):
                f = call.func
                if (
                    isinstance(f, cst.Attribute)
                    and f.attr.value == "index"
                    and model.imports.resolve(f.value) == "sys.argv"
                    and call.args
                    and string_value(call.args[0].value) == "step"
                ):
                    self.report(sub)
                    break
