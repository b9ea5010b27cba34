"""MFX217: an outer time limit computed from ``@timeout``'s ``seconds`` only."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import SCOPES, string_value, walk
from mfx.analysis.orchestrator_project import nodes_of
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid


class TimeoutSecondsOnly(Rule):
    """## What it does
    Flags a function that reads a decorator's ``attributes["seconds"]`` (or
    ``attributes.get("seconds")``) but never its ``minutes`` or ``hours``.

    ## Why is this bad?
    ``@timeout(minutes=2)`` has ``seconds == 0``: a limit computed from ``seconds`` alone is
    zero or the default, so steps run past their timeout or are killed at once (pitfall O17).
    ``get_run_time_limit_for_task(node.decorators)`` from
    ``metaflow.plugins.timeout_decorator`` computes the total (and the default limit).

    ## Example
    ```python
    limit = deco.attributes["seconds"]
    ```

    ## Use instead
    ```python
    from metaflow.plugins.timeout_decorator import get_run_time_limit_for_task
    limit = get_run_time_limit_for_task(node.decorators)
    ```
    """

    code = "MFX217"
    # Applicability pre-check (mfx.applicability), sound because it needs a `['seconds']` subscript
    # or `.get('seconds')` on attributes (escape sequences are covered by the engine, see
    # mfx.applicability)
    TRIGGERS = ('"seconds"', "'seconds'")
    name = "timeout-seconds-only"
    message = (
        "time limit read from `attributes['seconds']` only: @timeout also has minutes and hours; "
        "use `get_run_time_limit_for_task(node.decorators)`"
    )
    pitfalls = ("O17",)

    VALID = [
        Valid(
            """
def limit(deco):
    a = deco.attributes
    return int(a["hours"]) * 3600 + int(a["minutes"]) * 60 + int(a["seconds"])
"""
        )
    ]
    INVALID = [
        Invalid(
            """
def limit(node):
    for deco in node.decorators:
        if deco.name == "timeout":
            return deco.attributes.get("seconds", 3600)  # "minutes" only in a comment
""",
            count=1,
        )
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        nodes = nodes_of(file)
        if not any(self._attribute_key(n) == "seconds" for n in nodes if type(n) in (cst.Subscript, cst.Call)):
            return
        for func in nodes:
            if type(func) is cst.FunctionDef:
                self._check_function(func)  # type: ignore[arg-type]

    def _check_function(self, node: cst.FunctionDef) -> None:
        seconds, others = [], False
        for n in walk(node.body, SCOPES):
            key = self._attribute_key(n)
            if key == "seconds":
                seconds.append(n)
            elif key in ("minutes", "hours"):
                others = True
        if seconds and not others:
            self.report(seconds[0])

    @staticmethod
    def _attribute_key(n: cst.CSTNode) -> str | None:
        if isinstance(n, cst.Subscript) and len(n.slice) == 1:
            sub = n.slice[0].slice
            if isinstance(sub, cst.Index):
                return string_value(sub.value)
        if (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value == "get"
            and isinstance(n.func.value, (cst.Attribute, cst.Name))
            and n.args
        ):
            owner = n.func.value
            owner_name = owner.attr.value if isinstance(owner, cst.Attribute) else owner.value
            if owner_name in ("attributes", "attrs"):
                return string_value(n.args[0].value)
        return None
