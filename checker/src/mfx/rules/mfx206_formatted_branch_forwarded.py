"""MFX206: ``--branch`` is given the formatted branch name instead of the raw one."""

from __future__ import annotations

import re

import libcst as cst

from mfx.analysis.orchestrator_command import expression_parts
from mfx.analysis.orchestrator_names import string_value
from mfx.analysis.orchestrator_project import strings_of
from mfx.rule import Invalid, Rule, Valid


class FormattedBranchForwarded(Rule):
    """## What it does
    Flags a ``--branch`` option whose value comes from ``current.branch_name``, a
    ``branch_name`` attribute, ``format_name(...)``, a ``["branch"]`` lookup of the project info,
    or a literal ``test.``/``prod.``/``user.`` prefix.

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
    # Applicability pre-check (mfx.applicability), sound because it reports uses of the `--branch`
    # option found in string values (escape sequences are covered by the engine, see
    # mfx.applicability)
    TRIGGERS = ("--branch",)
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
        )
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
        )
    ]

    def visit_Module(self, node: cst.Module) -> None:
        if self.context.is_test:
            return  # tests run steps by hand on purpose
        for use in strings_of(node).option_uses("--branch"):
            if use.literal is not None and re.match(r"(test|prod|user)\.", use.literal):
                self.report(use.fragment.node)
                continue
            if use.expr is None:
                continue
            for part in expression_parts(use.expr, use.fragment.function):
                if self._formatted(part):
                    self.report(use.fragment.node)
                    break

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
