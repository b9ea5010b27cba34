"""MFX105: a TriggeredRun subclass without a ``status`` property."""

from __future__ import annotations

from typing import Iterator

from mfx.analysis.orchestrator_cli import (
    TRIGGERED_RUN,
    class_constant,
    methods,
    subclasses,
)
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid


class TriggeredRunWithoutStatus(Rule):
    """## What it does
    Flags a subclass of Metaflow's ``TriggeredRun`` that defines no ``status``.

    ## Why is this bad?
    The base class has no ``status``, but Metaflow's deployer test harness polls
    ``triggered_run.status`` and treats ``FAILED``/``TIMED_OUT``/``ABORTED`` as the end of a
    failed run: a failed run never sets ``Run.finished``, so without ``status`` a failing flow is
    polled until the harness times out, or raises ``AttributeError`` at once (pitfall O22).

    ## Example
    ```python
    class MyTriggeredRun(TriggeredRun):
        def terminate(self): ...
    ```

    ## Use instead
    ```python
    class MyTriggeredRun(TriggeredRun):
        @property
        def status(self):
            return {"ok": "SUCCEEDED", "err": "FAILED"}.get(engine_state(self.name), "RUNNING")
    ```
    """

    code = "MFX105"
    # Applicability pre-check (mfx.applicability), sound because it reports only on classes deriving
    # (directly or through a class of the file) from a base resolving to `...TriggeredRun`: the
    # identifier is written in the file
    TRIGGERS = ("TriggeredRun",)
    name = "triggered-run-without-status"
    message = (
        "TriggeredRun subclass has no `status` property: return one of None, RUNNING, PENDING, "
        "SUCCEEDED, FAILED, TIMED_OUT, ABORTED so callers can tell a failed run from a running one"
    )
    pitfalls = ("O22",)
    #: Core Step Functions lacks it by design of the base class (the harness requires it).
    applies_to_core = False

    VALID = [
        Valid(
            """
from metaflow.runner.deployer import TriggeredRun

class MyTriggeredRun(TriggeredRun):
    @property
    def status(self):
        return "RUNNING"
"""
        ),
        Valid(
            """
class TriggeredRun:
    pass

class Mine(TriggeredRun):
    pass
""",
            note="not Metaflow's TriggeredRun",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.runner.deployer import TriggeredRun

class MyTriggeredRun(TriggeredRun):
    # status is TODO
    def terminate(self):
        return True
""",
            count=1,
        )
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        for cls in subclasses(file.module, TRIGGERED_RUN):
            if "status" not in methods(cls) and class_constant(cls, "status") is None:
                yield self.report(cls.name)
