"""MFX319: remote-only work in a ``task_*`` hook is not guarded by a workload marker (B23)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from mfx.analysis.backend_base import (
    BackendFileRule,
    ends_with_return,
    find_nodes,
    is_env_guard,
    module_functions,
)
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import ImportMap, call_name
from mfx.rule import Invalid, Valid

TASK_HOOKS = ("task_pre_step", "task_decorate", "task_post_step", "task_exception", "task_finished")
REMOTE_ONLY_CALLS = ("Sidecar", "sync_local_metadata_to_datastore")

_HEAD = """
import os
from metaflow.decorators import StepDecorator
from metaflow.sidecar import Sidecar
from metaflow.metadata_provider.util import sync_local_metadata_to_datastore

class MyBk(StepDecorator):
    name = "mybk"
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
"""


class RemoteHookUnguarded(BackendFileRule):
    """## What it does
    In the ``task_*`` hooks of a compute-backend decorator, flags ``Sidecar(...)`` and
    ``sync_local_metadata_to_datastore(...)`` calls that do not sit under a test of the
    environment (``if "MYBK_WORKLOAD" in os.environ:``, an early ``if ... not in os.environ:
    return``, or a same-module function that reads the environment).

    ## Why is this bad?
    ``task_*`` hooks also run locally, for the ``@catch`` fallback attempt that
    ``runtime_step_cli`` does not send to the backend. Remote-only work there (a log sidecar,
    the metadata sync of the remote working directory) then runs on the launcher, where it can
    fail the fallback or overwrite metadata (pitfall B23). Metaflow's backends guard it with
    ``"METAFLOW_KUBERNETES_WORKLOAD" in os.environ`` / ``"AWS_BATCH_JOB_ID" in os.environ``.

    ## Example
    ```python
    def task_pre_step(self, ...):
        self._save_logs_sidecar = Sidecar("save_logs_periodically")
        self._save_logs_sidecar.start()
    ```

    ## Use instead
    ```python
    def task_pre_step(self, ...):
        if "METAFLOW_MYBK_WORKLOAD" in os.environ:
            self._save_logs_sidecar = Sidecar("save_logs_periodically")
            self._save_logs_sidecar.start()
    ```
    """

    code = "MFX319"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "remote-hook-unguarded"
    message = (
        "remote-only work in a task hook without a workload-marker guard: it also runs in the local "
        "@catch fallback; wrap it in `if \"<BACKEND>_WORKLOAD\" in os.environ:`"
    )
    pitfalls = ("B23",)
    applies_to_core = True

    VALID = [
        Valid(
            _HEAD
            + """
    def task_pre_step(self, *args):
        if "MYBK_WORKLOAD" in os.environ:
            self._sidecar = Sidecar("save_logs_periodically")

    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
        if "MYBK_WORKLOAD" not in os.environ:
            return
        if self.metadata.TYPE == "local":
            sync_local_metadata_to_datastore(".metaflow", self.task_datastore)
"""
        ),
    ]
    INVALID = [
        Invalid(
            _HEAD
            + """
    def task_pre_step(self, *args):
        self._sidecar = Sidecar("save_logs_periodically")
        self._sidecar.start()

    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
        if self.metadata.TYPE == "local":
            sync_local_metadata_to_datastore(".metaflow", self.task_datastore)
""",
            count=2,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        funcs = module_functions(module)
        for d in model.decorators:
            if not d.is_compute_backend:
                continue
            for hook in TASK_HOOKS:
                func = d.methods.get(hook)
                if func is not None and isinstance(func.body, cst.IndentedBlock):
                    self._walk(model.imports, funcs, func.body.body, False)

    def _walk(self, imports: ImportMap, funcs: dict[str, cst.FunctionDef], stmts: Sequence[cst.CSTNode], guarded: bool) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.If):
                polarity = is_env_guard(imports, funcs, stmt.test)
                self._walk(imports, funcs, self._block(stmt.body), guarded or polarity is True)
                orelse = stmt.orelse
                if isinstance(orelse, cst.If):
                    self._walk(imports, funcs, [orelse], guarded or polarity is False)
                elif isinstance(orelse, cst.Else):
                    self._walk(imports, funcs, self._block(orelse.body), guarded or polarity is False)
                if polarity is False and ends_with_return(stmt.body):
                    guarded = True
                continue
            if isinstance(stmt, (cst.For, cst.While, cst.With, cst.Try)):
                inner = [stmt.body] + (list(stmt.handlers) if isinstance(stmt, cst.Try) else [])
                for part in inner:
                    body = part.body if isinstance(part, cst.ExceptHandler) else part
                    self._walk(imports, funcs, self._block(body), guarded)
                if isinstance(stmt, cst.Try) and stmt.finalbody is not None:
                    self._walk(imports, funcs, self._block(stmt.finalbody.body), guarded)
                continue
            if guarded or isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            for call in find_nodes(stmt, cst.Call):
                if call_name(call) in REMOTE_ONLY_CALLS:
                    self.report(call)

    @staticmethod
    def _block(body: cst.BaseSuite) -> Sequence[cst.CSTNode]:
        return body.body if isinstance(body, cst.IndentedBlock) else [cst.SimpleStatementLine(body=body.body)]
