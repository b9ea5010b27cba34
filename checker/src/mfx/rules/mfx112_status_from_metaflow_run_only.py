"""MFX112: ``TriggeredRun.status`` derived only from the Metaflow ``Run``, never from the scheduler."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import TRIGGERED_RUN, methods, subclasses
from mfx.analysis.orchestrator_names import dotted, string_value, walk
from mfx.applicability import all_of
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

#: Attributes of a Metaflow ``Run`` that tell whether it ended (and how).
_RUN_STATE = {"finished", "successful", "finished_at"}
#: Calls that only read Metaflow's own records or massage values: they never ask the scheduler.
_METAFLOW_ONLY = {
    "Run", "Flow", "Step", "Task", "namespace", "metadata", "get_metadata", "default_metadata",
    "isinstance", "getattr", "hasattr", "str", "int", "bool", "len", "list", "dict", "tuple", "set",
    "any", "all", "max", "min", "sorted", "upper", "lower", "strip", "format", "join", "split",
    "startswith", "endswith", "property", "super", "print", "repr",
    "time", "monotonic", "now", "utcnow", "debug", "info", "warning",
}
#: Container reads: Metaflow-only on a local or a literal (``STATES.get(key)``), not on a client
#: reached through attributes (``self.api.jobs.get(job_id)``).
_CONTAINER = {"get", "items", "keys", "values"}
#: How deep ``self._helper()`` chains are followed.
_DEPTH = 4


class StatusFromMetaflowRunOnly(Rule):
    """## What it does
    Flags the ``status`` of a ``TriggeredRun`` subclass that decides from the Metaflow ``Run``
    alone (``run.finished``, ``run.successful``, ``finished_at``) and never asks the scheduler:
    every call it makes, directly or through the class's own helper methods and properties, only
    reads Metaflow's records.

    ## Why is this bad?
    A run that fails before its first task registers (bad image, quota, a compile error on the
    scheduler, a cancelled execution) never appears in Metaflow's metadata, and a task killed by
    the scheduler leaves the run unfinished: such a ``status`` says ``PENDING``/``RUNNING``
    forever and every wait on the run times out (pitfall O22). Ask the scheduler for the
    execution's state (and use the ``Run`` only to refine it).

    ## Example
    ```python
    @property
    def status(self):
        run = self.run
        if run is None or not run.finished:
            return "RUNNING"
        return "SUCCEEDED" if run.successful else "FAILED"
    ```

    ## Use instead
    ```python
    @property
    def status(self):
        state = self._client.describe(self._execution_id).state  # the scheduler's word
        return {"done": "SUCCEEDED", "error": "FAILED", "cancelled": "ABORTED"}.get(state, "RUNNING")
    ```
    """

    code = "MFX112"
    # Applicability pre-check (mfx.applicability), sound because it reports only in a subclass of
    # Metaflow's TriggeredRun (the base is named by an identifier written in the file) that reads
    # `finished`/`successful`/`finished_at` (attribute names or getattr strings, written in the text)
    TRIGGERS = all_of(("TriggeredRun",), ("finished", "successful"))
    name = "status-from-metaflow-run-only"
    message = (
        "`status` is decided from the Metaflow Run only: a run that fails before it registers, or is "
        "killed by the scheduler, stays RUNNING/PENDING forever; ask the scheduler for the execution state"
    )
    pitfalls = ("O22",)

    VALID = [
        Valid(
            """
from metaflow.runner.deployer import TriggeredRun

class MyTriggeredRun(TriggeredRun):
    @property
    def status(self):
        state = self._engine_state()
        if state == "RUNNING" and self.run is not None and self.run.finished:
            return "SUCCEEDED" if self.run.successful else "FAILED"
        return state

    def _engine_state(self):
        return self.deployer.client.describe(self.name)["state"].upper()
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
        run = self.run
        if run is None or not run.finished:
            return "RUNNING"
        return "SUCCEEDED" if run.successful else "FAILED"
""",
            count=1,
        )
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        for cls in subclasses(file.module, TRIGGERED_RUN):
            members = methods(cls)
            func = members.get("status")
            if func is None:
                continue
            bodies = self._reachable(func, members)
            nodes = [n for b in bodies for n in walk(b.body)]
            if not any(self._reads_run_state(n) for n in nodes):
                continue
            if any(self._asks_elsewhere(n, members) for n in nodes):
                continue
            yield self.report(func.name)

    @staticmethod
    def _reachable(func: cst.FunctionDef, members: dict) -> list:
        """``func`` and the class's methods/properties it reaches through ``self.x`` (bounded)."""
        seen = [func]
        frontier = [func]
        for _ in range(_DEPTH):
            nxt = []
            for f in frontier:
                for n in walk(f.body):
                    if isinstance(n, cst.Attribute) and dotted(n.value) == "self":
                        m = members.get(n.attr.value)
                        if m is not None and m not in seen:
                            seen.append(m)
                            nxt.append(m)
            frontier = nxt
        return seen

    @staticmethod
    def _reads_run_state(n: cst.CSTNode) -> bool:
        if isinstance(n, cst.Attribute):
            return n.attr.value in _RUN_STATE
        if isinstance(n, cst.Call) and dotted(n.func) in ("getattr", "hasattr") and len(n.args) >= 2:
            return string_value(n.args[1].value) in _RUN_STATE
        return False

    @staticmethod
    def _asks_elsewhere(n: cst.CSTNode, members: dict) -> bool:
        """A call that may reach the scheduler: anything but Metaflow's client, builtins, string
        helpers and the class's own members (those are followed instead)."""
        if not isinstance(n, cst.Call):
            return False
        func = n.func
        if isinstance(func, cst.Name):
            return func.value not in _METAFLOW_ONLY and func.value not in members
        if isinstance(func, cst.Attribute):
            name = func.attr.value
            if dotted(func.value) == "self" and name in members:
                return False
            if name in _METAFLOW_ONLY:
                return False
            if name in _CONTAINER and isinstance(func.value, (cst.Name, cst.Dict, cst.Subscript)):
                return False
            owner = dotted(func.value) or ""
            if owner.split(".")[0] == "metaflow":
                return False
            return True
        return True
