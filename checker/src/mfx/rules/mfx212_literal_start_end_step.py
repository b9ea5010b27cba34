"""MFX212: the start or end step recognised by the literal names ``"start"``/``"end"``."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import dotted, string_value, walk
from mfx.applicability import all_of
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_NAMES = {"start", "end"}


class LiteralStartEndStep(Rule):
    """## What it does
    Flags a comparison of a step name (``node.name``, ``step_name``, ``step`` …) with the string
    ``"start"`` or ``"end"``, and a graph lookup ``graph["start"]``/``graph["end"]``.

    ## Why is this bad?
    Flows may name their first and last steps freely with ``@step(start=True)`` /
    ``@step(end=True)``. An orchestrator that looks for ``"start"`` never runs ``init`` or gives
    the first step its ``_parameters`` input, and the run never finishes (pitfall O20).
    ``graph.start_step`` and ``graph.end_step`` hold the real names.

    ## Example
    ```python
    if node.name == "start":
        cmds.append(init_cmd)
    ```

    ## Use instead
    ```python
    if node.name == graph.start_step:
        cmds.append(init_cmd)
    ```
    """

    code = "MFX212"
    # Applicability pre-check (mfx.applicability), sound because every finding needs a string
    # value equal to `start` or `end`, which a literal spells between quotes (escape sequences
    # and implicit concatenation are covered by the engine, see mfx.applicability), and either
    # compares it with a name whose last part is `name`, `step`, `step_name`, `stepname` or
    # `node_name`, or subscripts a name ending in `graph`: one of these identifiers is written
    TRIGGERS = all_of(('"start"', "'start'", '"end"', "'end'"), ("name", "step", "graph"))
    name = "literal-start-end-step"
    message = (
        "step recognised by the literal name {name!r}: flows may rename it with "
        "@step(start=True)/@step(end=True); use `graph.start_step` / `graph.end_step`"
    )
    pitfalls = ("O20",)

    VALID = [
        Valid(
            """
def compile(graph, node, step_name):
    if step_name == graph.end_step and step_name != "end":
        pass  # an alias for custom end steps
    if node.name == graph.start_step or step_name == graph.end_step:
        pass
    if node.type == "end":
        pass
    mode = "start"
    if mode == "start":
        pass
"""
        )
    ]
    INVALID = [
        Invalid(
            """
def compile(self, node, step_name):
    if node.name == "start":
        pass
    if "end" != step_name:
        pass
    first = self.graph["start"]
""",
            count=3,
        )
    ]

    _excused: set[int]

    def check(self, file: FileContext) -> Iterator[Report]:
        self._excused = set()
        # One lookup per file.module type in the module's index (the analyses' field order) instead of
        # visitor methods, so that files linted by whole-module rules only need no index in
        # libcst's order. A comparison can only be excused by a boolean operation containing it,
        # so collecting every excuse first is what the visiting order gave.
        idx = file.index
        for op in idx.nodes(cst.BooleanOperation):
            self._excuse(op)
        for n in idx.nodes((cst.Comparison, cst.Subscript)):
            if type(n) is cst.Comparison:
                self._check_comparison(n)  # type: ignore[arg-type]
            else:
                self._check_subscript(n)  # type: ignore[arg-type]

    def _excuse(self, node: cst.BooleanOperation) -> None:
        # `name == graph.end_step and name != "end"` knows about custom names: not a finding.
        names = walk(node)
        if any(isinstance(n, cst.Name) and n.value in ("start_step", "end_step") for n in names):
            self._excused.update(id(n) for n in names if isinstance(n, cst.Comparison))

    def _check_comparison(self, node: cst.Comparison) -> None:
        if id(node) in self._excused:
            return
        if len(node.comparisons) != 1:
            return
        comp = node.comparisons[0]
        if not isinstance(comp.operator, (cst.Equal, cst.NotEqual)):
            return
        for step_side, str_side in ((node.left, comp.comparator), (comp.comparator, node.left)):
            value = string_value(str_side)
            if value in _NAMES and self._is_step_name(step_side):
                self.report(node, self.message.format(name=value))
                return

    def _check_subscript(self, node: cst.Subscript) -> None:
        name = dotted(node.value) or ""
        if name.split(".")[-1] not in ("graph", "_graph") or len(node.slice) != 1:
            return
        sub = node.slice[0].slice
        if isinstance(sub, cst.Index):
            value = string_value(sub.value)
            if value in _NAMES:
                self.report(node, self.message.format(name=value))

    @staticmethod
    def _is_step_name(expr: cst.BaseExpression) -> bool:
        name = dotted(expr)
        if name is None:
            return False
        last = name.split(".")[-1]
        if isinstance(expr, cst.Attribute) and last == "name":
            owner = (dotted(expr.value) or "").split(".")[-1]
            return owner in ("node", "step", "n", "current_node", "parent", "child") or "node" in owner or "step" in owner
        return last in ("step_name", "step", "node_name", "stepname")
