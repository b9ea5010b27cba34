"""MFX106: ``TriggeredRun.status`` returns a value outside Metaflow's status vocabulary."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import TRIGGERED_RUN, methods, subclasses
from mfx.analysis.orchestrator_names import string_value, walk
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

VOCABULARY = {"RUNNING", "PENDING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class NonstandardRunStatus(Rule):
    """## What it does
    Flags string constants returned by the ``status`` of a ``TriggeredRun`` subclass that are not
    one of ``RUNNING``, ``PENDING``, ``SUCCEEDED``, ``FAILED``, ``TIMED_OUT``, ``ABORTED``
    (case-insensitive) — directly, through a conditional expression, or as values of a dict
    literal that is looked up in the ``return``.

    ## Why is this bad?
    Callers (Metaflow's deployer tests, user scripts) compare ``status.upper()`` with that
    vocabulary: a run reported as ``"COMPLETED"`` or ``"error"`` never counts as finished or
    failed, so waiting for it polls until a timeout (pitfall O22).

    ## Example
    ```python
    @property
    def status(self):
        return {"done": "COMPLETED", "err": "ERROR"}.get(state, "RUNNING")
    ```

    ## Use instead
    ```python
    @property
    def status(self):
        return {"done": "SUCCEEDED", "err": "FAILED"}.get(state, "RUNNING")
    ```
    """

    code = "MFX106"
    # Applicability pre-check (mfx.applicability), sound because it reports only on classes deriving
    # (directly or through a class of the file) from a base resolving to `...TriggeredRun`: the
    # identifier is written in the file
    TRIGGERS = ("TriggeredRun",)
    name = "nonstandard-run-status"
    message = (
        "`status` returns {value!r}, which is not in Metaflow's status vocabulary: use one of "
        "RUNNING, PENDING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (or None)"
    )
    pitfalls = ("O22",)

    VALID = [
        Valid(
            """
from metaflow.runner.deployer import TriggeredRun

class MyTriggeredRun(TriggeredRun):
    @property
    def status(self):
        state = self._state()
        if state is None:
            return None
        mapping = {"ok": "Succeeded", "bad": "FAILED"}
        return {"ok": "SUCCEEDED", "bad": "failed", "cancel": "ABORTED"}.get(state, "RUNNING")

    def describe(self):
        return "COMPLETED"  # not the status property
"""
        )
    ]
    INVALID = [
        Invalid(
            """
from metaflow.runner.deployer import TriggeredRun

class MyTriggeredRun(TriggeredRun):
    @property
    def status(self):
        if self._done():
            return "COMPLETED"
        return "RUNNING" if self._alive() else "ERROR"
""",
            count=2,
            line=8,
            column=48,
            message="'ERROR'",
        ),
        Invalid(
            """
from metaflow.runner.deployer import TriggeredRun

class MyTriggeredRun(TriggeredRun):
    @property
    def status(self):
        return {"a": "SUCCESS", "b": "FAILED"}[self._state()]
""",
            count=1,
            line=6,
            column=22,
            message="'SUCCESS'",
        ),
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        for cls in subclasses(file.module, TRIGGERED_RUN):
            func = methods(cls).get("status")
            if func is None:
                continue
            for ret in walk(func.body):
                if isinstance(ret, cst.Return) and ret.value is not None:
                    for const in self._returned_constants(ret.value):
                        value = string_value(const)
                        if value is not None and value.upper() not in VOCABULARY:
                            yield self.report(const, self.message.format(value=value))

    def _returned_constants(self, expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            yield expr
        elif isinstance(expr, cst.IfExp):
            yield from self._returned_constants(expr.body)
            yield from self._returned_constants(expr.orelse)
        elif isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Dict):
            yield from self._dict_values(expr.value)
        elif isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            if expr.func.attr.value == "get" and isinstance(expr.func.value, cst.Dict):
                yield from self._dict_values(expr.func.value)
                if len(expr.args) > 1:
                    yield from self._returned_constants(expr.args[1].value)

    @staticmethod
    def _dict_values(d: cst.Dict) -> Iterator[cst.BaseExpression]:
        for el in d.elements:
            if isinstance(el, cst.DictElement):
                yield el.value
