"""MFX312: a call that can raise runs before ``sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)`` (B13)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import (
    BackendFileRule,
    find_nodes,
    is_disallow_retry_exit,
)
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import call_name, walk
from mfx.applicability import all_of
from mfx.rule import Invalid, Valid

SYNC = "sync_local_metadata_from_datastore"


def _unguarded_sync(node: cst.CSTNode) -> bool:
    """True if ``node`` calls the sync outside the body of any ``try``."""
    guarded = set()
    for t in walk(node):
        if isinstance(t, cst.Try):
            guarded.update(id(c) for c in walk(t.body) if isinstance(c, cst.Call))
    return any(isinstance(c, cst.Call) and call_name(c) == SYNC and id(c) not in guarded for c in walk(node))


class UnguardedSyncBeforeDisallowRetry(BackendFileRule):
    """## What it does
    In an ``except`` handler that ends with ``sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)``, flags a
    preceding call to ``sync_local_metadata_from_datastore`` (directly, or through a function of
    the same module whose body calls it outside a ``try``).

    ## Why is this bad?
    Exit code 202 tells the runtime "do not retry": it is meant for launch failures. But with
    local metadata, when the first attempt fails to launch there is no completed attempt, the
    sync raises ``DataException: No completed attempts``, the trampoline exits 1 instead of 202,
    and the infrastructure failure is retried after all (pitfall B13).

    ## Example
    ```python
    except Exception:
        traceback.print_exc()
        _sync_metadata()
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
    ```

    ## Use instead
    ```python
    def _sync_metadata():
        try:
            sync_local_metadata_from_datastore(DATASTORE_LOCAL_DIR, task_ds)
        except Exception as e:
            echo("metadata sync failed: %s" % e)
    ```

    ## Known problems
    Metaflow's own ``kubernetes_cli.py`` and ``batch_cli.py`` have exactly this pattern (a real
    bug there too, reproduced with local metadata); the rule is not applied to Metaflow's core so
    that core stays a clean reference for the other rules.
    """

    code = "MFX312"
    # Applicability pre-check (mfx.applicability), sound because every finding ends in
    # `sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)` or `sys.exit(202)` (is_disallow_retry_exit: resolved
    # names, whose identifiers are written in the file, and the literal 202)
    TRIGGERS = all_of(("exit",), ("METAFLOW_EXIT_DISALLOW_RETRY", "202"))
    name = "unguarded-sync-before-disallow-retry"
    message = (
        "this metadata sync can raise before `sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)` (no completed "
        "attempt yet), turning a no-retry launch failure into a retried one: wrap the sync in try/except"
    )
    pitfalls = ("B13",)
    applies_to_core = False

    VALID = [
        Valid(
            """
import sys, traceback
from metaflow.exception import METAFLOW_EXIT_DISALLOW_RETRY
from metaflow.metadata_provider.util import sync_local_metadata_from_datastore

def step(ctx, launch):
    def _sync_metadata():
        try:
            sync_local_metadata_from_datastore(".metaflow", ctx.task_ds)
        except Exception:
            pass
    try:
        launch()
    except Exception:
        traceback.print_exc()
        _sync_metadata()
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
    finally:
        _sync_metadata()
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
import sys, traceback
from metaflow.exception import METAFLOW_EXIT_DISALLOW_RETRY
from metaflow.metadata_provider.util import sync_local_metadata_from_datastore

def step(ctx, launch):
    def _sync_metadata():
        if ctx.metadata.TYPE == "local":
            sync_local_metadata_from_datastore(".metaflow", ctx.task_ds)
    try:
        launch()
    except Exception:
        traceback.print_exc(chain=False)
        _sync_metadata()
        sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)
""",
            count=1,
            note="kubernetes_cli.py's pattern",
        ),
        Invalid(
            """
import sys
from metaflow.metadata_provider.util import sync_local_metadata_from_datastore

def step(ctx, launch):
    try:
        launch()
    except Exception:
        sync_local_metadata_from_datastore(".metaflow", ctx.task_ds)
        sys.exit(202)
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        module_funcs = {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}
        seen: set[int] = set()
        for func in find_nodes(module, cst.FunctionDef):
            local = {f.name.value: f for f in find_nodes(func.body, cst.FunctionDef)}
            scope: dict[str, cst.FunctionDef] = {**module_funcs, **local}
            for handler in find_nodes(func.body, cst.ExceptHandler):
                if id(handler) in seen:
                    continue
                seen.add(id(handler))
                body = handler.body.body if isinstance(handler.body, cst.IndentedBlock) else []
                if not body or not is_disallow_retry_exit(model.imports, body[-1]):
                    continue
                for stmt in body[:-1]:
                    culprit = self._culprit(stmt, scope)
                    if culprit is not None:
                        self.report(culprit)

    @staticmethod
    def _culprit(stmt: cst.CSTNode, scope: dict[str, cst.FunctionDef]) -> cst.Call | None:
        if isinstance(stmt, cst.Try):
            return None
        for call in find_nodes(stmt, cst.Call):
            name = call_name(call)
            if name == SYNC:
                return call
            if isinstance(call.func, cst.Name) and name in scope and _unguarded_sync(scope[name].body):
                return call
        return None
