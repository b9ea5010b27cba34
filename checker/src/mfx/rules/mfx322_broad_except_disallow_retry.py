"""MFX322: a broad ``except`` around waiting on user code exits with "do not retry" (B14)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import (
    BackendFileRule,
    find_nodes,
    is_disallow_retry_exit,
)
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import dotted_of_node
from mfx.applicability import all_of
from mfx.rule import Invalid, Valid

_WAIT_NAMES = ("tail_logs", "result", "poll")


def _waits(call: cst.Call) -> bool:
    if not isinstance(call.func, cst.Attribute):
        return False
    name = call.func.attr.value
    return name.startswith("wait") or name.startswith("exec") or name in _WAIT_NAMES


def _is_broad(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = [dotted_of_node(handler.type)]
    if isinstance(handler.type, cst.Tuple):
        names = [dotted_of_node(e.value) for e in handler.type.elements]
    return any(n in ("Exception", "BaseException") for n in names)


class BroadExceptDisallowRetry(BackendFileRule):
    """## What it does
    Flags an ``except Exception:`` (or bare ``except:``) handler that ends with
    ``sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)`` when its ``try`` body waits on or executes the
    job (a method call named ``wait*``, ``exec*``, ``result``, ``poll`` or ``tail_logs``).

    ## Why is this bad?
    Exit 202 tells Metaflow's runtime never to retry the task. Metaflow uses it only when the job
    could not be launched or was killed. Failures while the job runs (user errors, OOM, a
    platform timeout, an SDK hiccup while polling) must stay retryable so ``@retry`` applies;
    catching everything around the wait burns them into permanent failures (pitfall B14;
    metaflow-sandbox).

    ## Example
    ```python
    try:
        executor.wait(echo=echo)
    except Exception:
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
    ```

    ## Use instead
    ```python
    try:
        executor.wait(echo=echo)
    except MyBackendKilledException:
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
    ```
    """

    code = "MFX322"
    # Applicability pre-check (mfx.applicability), sound because every finding ends in
    # `sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)` or `sys.exit(202)` (is_disallow_retry_exit: resolved
    # names, whose identifiers are written in the file, and the literal 202)
    TRIGGERS = all_of(("exit",), ("METAFLOW_EXIT_DISALLOW_RETRY", "202"))
    name = "broad-except-disallow-retry"
    message = (
        "a broad except around waiting on the job exits with METAFLOW_EXIT_DISALLOW_RETRY, so failures "
        "of running user code are never retried: use 202 only for launch failures and kills, let other "
        "errors exit non-zero"
    )
    pitfalls = ("B14",)
    applies_to_core = True

    VALID = [
        Valid(
            """
import sys
from metaflow.exception import METAFLOW_EXIT_DISALLOW_RETRY

def step(job, launch):
    try:
        launch()
    except Exception:
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
    try:
        job.wait()
    except KilledException:
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
import sys
from metaflow.exception import METAFLOW_EXIT_DISALLOW_RETRY

def step(executor, echo):
    try:
        executor.wait(echo=echo)
    except SystemExit:
        raise
    except Exception:
        executor.cleanup()
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for node in find_nodes(module, cst.Try):
            if not any(_waits(c) for c in find_nodes(node.body, cst.Call)):
                continue
            for handler in node.handlers:
                body = handler.body.body if isinstance(handler.body, cst.IndentedBlock) else []
                if _is_broad(handler) and body and is_disallow_retry_exit(model.imports, body[-1]):
                    self.report(handler)
