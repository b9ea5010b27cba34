"""MFX311: a remote-only branch of ``task_pre_step``/``task_finished`` returns before the
metadata bookkeeping (B12)."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from mfx.analysis.backend_base import (
    BackendFileRule,
    calls_named,
    ends_with_return,
    find_nodes,
    is_env_guard,
    module_functions,
)
from mfx.analysis.backend_model import BackendModel, function_params
from mfx.rule import Invalid, Valid

_HEAD = """
import os
from metaflow.decorators import StepDecorator
from metaflow.metadata_provider.util import sync_local_metadata_to_datastore

def in_worker():
    return "MYBK_WORKER" in os.environ

class MyBkDecorator(StepDecorator):
    name = "mybk"
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
"""


class MetadataSyncSkippedRemotely(BackendFileRule):
    """## What it does
    In a compute-backend decorator, flags an ``if`` that tests for the remote worker
    (``"X" in os.environ`` or a same-module function that reads the environment) and ends with
    ``return`` *before* the statement that does the metadata bookkeeping:
    ``sync_local_metadata_to_datastore`` in ``task_finished``, or ``self.metadata = metadata``
    in ``task_pre_step``.

    ## Why is this bad?
    The bookkeeping then runs only locally, where it is useless, and never in the remote task,
    where it is needed: with local metadata the client sees an unsuccessful run without
    artifacts (pitfall B12; modal returns early from both hooks in the worker).

    ## Example
    ```python
    def task_finished(self, ...):
        if in_worker():
            self._sidecar.terminate()
            return
        sync_local_metadata_to_datastore(DATASTORE_LOCAL_DIR, self.task_datastore)
    ```

    ## Use instead
    ```python
    def task_finished(self, ...):
        if in_worker():
            sync_local_metadata_to_datastore(DATASTORE_LOCAL_DIR, self.task_datastore)
            self._sidecar.terminate()
    ```
    """

    code = "MFX311"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "metadata-sync-skipped-remotely"
    message = "remote branch returns before the metadata bookkeeping"
    pitfalls = ("B12",)
    applies_to_core = True

    VALID = [
        Valid(
            _HEAD
            + """
    def task_pre_step(self, step_name, task_datastore, metadata, run_id, task_id, flow, graph, retry_count, max_retries, ubf_context, inputs):
        if "MYBK_WORKER" not in os.environ:
            return
        self.metadata = metadata

    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
        if in_worker():
            sync_local_metadata_to_datastore(".metaflow", self.task_datastore)
            return
"""
        ),
    ]
    INVALID = [
        Invalid(
            _HEAD
            + """
    def task_pre_step(self, step_name, task_datastore, metadata, run_id, task_id, flow, graph, retry_count, max_retries, ubf_context, inputs):
        if in_worker():
            self._sidecar = 1
            return
        self.metadata = metadata

    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
        if in_worker():
            self._sidecar = None
            return
        if self.metadata.TYPE == "local":
            sync_local_metadata_to_datastore(".metaflow", self.task_datastore)
""",
            count=2,
            note="modal",
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        funcs = module_functions(module)
        for d in model.decorators:
            if not d.is_compute_backend:
                continue
            fin = d.methods.get("task_finished")
            if fin is not None:
                self._check(model, funcs, fin, lambda n: bool(calls_named(n, "sync_local_metadata_to_datastore")),
                            "`sync_local_metadata_to_datastore`")
            pre = d.methods.get("task_pre_step")
            if pre is not None:
                params = function_params(pre)
                meta = params[3] if len(params) > 3 else "metadata"
                self._check(model, funcs, pre, lambda n, meta=meta: self._assigns_metadata(n, meta), "`self.metadata = metadata`")

    def _check(self, model: BackendModel, funcs, func: cst.FunctionDef, does: Callable[[cst.CSTNode], bool], what: str) -> None:
        body = func.body.body if isinstance(func.body, cst.IndentedBlock) else []
        for i, stmt in enumerate(body):
            if not does(stmt):
                continue
            for earlier in body[:i]:
                if (
                    isinstance(earlier, cst.If)
                    and is_env_guard(model.imports, funcs, earlier.test) is True
                    and ends_with_return(earlier.body)
                    and not does(earlier.body)
                ):
                    self.report(
                        earlier,
                        f"this remote-only branch returns before {what}, which therefore never runs in the "
                        "remote task: with local metadata the client sees an unsuccessful run; do it inside "
                        "this branch before returning",
                    )
            return

    @staticmethod
    def _assigns_metadata(node: cst.CSTNode, meta: str) -> bool:
        for a in find_nodes(node, cst.Assign):
            if (
                isinstance(a.value, cst.Name)
                and a.value.value == meta
                and any(isinstance(t.target, cst.Attribute) and t.target.attr.value == "metadata" for t in a.targets)
            ):
                return True
        return False
