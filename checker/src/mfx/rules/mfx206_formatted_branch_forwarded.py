"""MFX206: ``--branch`` is given the formatted branch name instead of the raw one."""

from __future__ import annotations

import re
from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_command import expression_parts
from mfx.analysis.orchestrator_names import string_value
from mfx.analysis.orchestrator_project import option_values
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class FormattedBranchForwarded(ProjectRule):
    """## What it does
    Flags a ``--branch`` option whose value comes from ``current.branch_name``, a
    ``branch_name`` attribute, ``format_name(...)``, a ``["branch"]`` lookup of the project info,
    or a literal ``test.``/``prod.``/``user.`` prefix. The value may be written next to the
    option in a code string or list, or reach a task command assembled across statements and
    helper functions (the project's command model).

    ## Why is this bad?
    ``@project`` formats the branch itself in every task from the raw ``--branch`` value
    (``abc`` becomes ``test.abc``). Passing the formatted name fails with a ``format_name``
    error or yields ``test.test.abc``, and ``--production`` is lost (pitfall O13). Forward the
    flow decorators' own top-level options instead.

    ## Example
    ```python
    top += ["--branch", current.branch_name]
    ```

    ## Use instead
    ```python
    opts = {}
    for deco in flow_decorators(flow):
        opts.update(deco.get_top_level_options())
    top += list(dict_to_cli_options(opts))
    ```
    """

    code = "MFX206"
    name = "formatted-branch-forwarded"
    message = (
        "`--branch` is given the formatted branch name: @project expects the raw branch (`abc`, "
        "not `test.abc`); forward `deco.get_top_level_options()` with `dict_to_cli_options`"
    )
    pitfalls = ("O13",)

    VALID = [
        Valid(
            """
def top(branch, production):
    opts = ["--branch", branch] if branch else []
    if production:
        opts.append("--production")
    return opts
"""
        ),
        Valid(
            """
def build(branch, run_id, task_id):
    cmd = ["--branch"]
    cmd.append(branch)
    return cmd + ["step", "start", "--run-id", run_id, "--task-id", task_id]
""",
            note="the raw branch, appended by another statement",
        ),
        Valid(
            """
def label(current):
    return "branch: " + current.branch_name
""",
            note="the formatted name, but not as the value of --branch",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow import current

def top(obj):
    name = current.branch_name
    return ["--branch", name, "--branch=%s" % obj._project_info["branch"], f"--branch test.{obj.b}"]
""",
            count=3,
        ),
        Invalid(
            """
from metaflow import current

def build(run_id, task_id):
    cmd = ["--branch"]
    cmd.append(current.branch_name)
    return cmd + ["step", "start", "--run-id", run_id, "--task-id", task_id]
""",
            count=1,
            line=4,
            note="the value appended by another statement (the command model)",
        ),
        Invalid(
            {
                "ext/opts.py": """
def top_options(flow):
    name = flow._project_info["branch"]
    opts = ["--branch"]
    opts += [name]
    return opts
""",
                "ext/build.py": """
from .opts import top_options

def build(flow, run_id, task_id):
    return top_options(flow) + ["step", "start", "--run-id", run_id, "--task-id", task_id]
""",
            },
            count=1,
            path="ext/opts.py",
            line=3,
            note="options from a helper in another module, the value through a local",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterator[Report]:
        for value in option_values(project, "--branch"):  # tests run steps by hand: skipped
            if value.literal is not None and re.match(r"(test|prod|user)\.", value.literal):
                yield self.report(value.node, path=value.path)
            elif value.expr is not None and any(self._formatted(part) for part in expression_parts(value.expr, value.func)):
                yield self.report(value.node, path=value.path)

    @staticmethod
    def _formatted(part: cst.CSTNode) -> bool:
        if isinstance(part, cst.Attribute) and part.attr.value == "branch_name":
            return True
        if isinstance(part, cst.Call):
            func = part.func
            name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
            if name == "format_name":
                return True
        if isinstance(part, cst.Subscript) and len(part.slice) == 1:
            sub = part.slice[0].slice
            if isinstance(sub, cst.Index) and string_value(sub.value) == "branch":
                return True
        return False
