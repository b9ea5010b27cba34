"""MFX301: a compute-backend decorator does not reject the local datastore in ``step_init`` (B1)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel, function_params
from mfx.rule import Invalid, Valid

_BACKEND_HEAD = """
from metaflow.decorators import StepDecorator

class MyBackendDecorator(StepDecorator):
    name = "mybk"

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        if retry_count <= max_user_code_retries:
            cli_args.commands = ["mybk", "step"]
"""


class LocalDatastoreAccepted(BackendFileRule):
    """## What it does
    Flags a compute-backend decorator (a ``StepDecorator`` whose ``runtime_step_cli`` rewrites
    ``cli_args.commands``) whose ``step_init`` never compares ``flow_datastore.TYPE`` and
    raises.

    ## Why is this bad?
    A remote task exchanges everything (code package, artifacts, logs, metadata) through the
    datastore. With ``--datastore=local`` tasks only "work" when the remote shares the disk, and
    log tailing crashes with ``Log tailing implementation missing for datastore type local``
    (pitfall B1). ``@batch`` and ``@kubernetes`` refuse it up front.

    ## Example
    ```python
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        self.run_time_limit = get_run_time_limit_for_task(decos)
    ```

    ## Use instead
    ```python
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        if flow_datastore.TYPE == "local":
            raise MetaflowException("@mybk requires a remote datastore, e.g. --datastore=s3")
        self.run_time_limit = get_run_time_limit_for_task(decos)
    ```
    """

    code = "MFX301"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "local-datastore-accepted"
    message = (
        "compute backend accepts the local datastore: in `step_init`, raise when "
        "`flow_datastore.TYPE == \"local\"` (remote tasks exchange everything through the datastore)"
    )
    pitfalls = ("B1",)
    applies_to_core = True

    VALID = [
        Valid(
            _BACKEND_HEAD
            + """
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        if flow_datastore.TYPE not in ("s3", "azure", "gs"):
            raise Exception("needs a remote datastore")
"""
        ),
        Valid(
            """
from metaflow.decorators import StepDecorator

class RetryLike(StepDecorator):
    name = "retry_like"
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        pass
""",
            note="not a compute backend (does not rewrite the task command)",
        ),
    ]
    INVALID = [
        Invalid(
            _BACKEND_HEAD
            + """
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        self.decos = decos
        # if flow_datastore.TYPE == "local": raise ...
""",
            count=1,
            note="the check exists only in a comment",
        ),
        Invalid(_BACKEND_HEAD, count=1, note="no step_init at all"),
        Invalid(
            _BACKEND_HEAD
            + """
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        if flow_datastore.TYPE == "local":
            logger("local datastore, good luck")
""",
            count=1,
            note="compared but never raised",
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for d in model.decorators:
            if not d.is_compute_backend:
                continue
            init = d.methods.get("step_init")
            if init is None or not self._rejects_local(init):
                self.report(init.name if init is not None else d.node.name)

    @staticmethod
    def _rejects_local(func: cst.FunctionDef) -> bool:
        params = function_params(func)
        ds = params[6] if len(params) > 6 else "flow_datastore"
        for if_node in find_nodes(func.body, cst.If):
            compares_type = any(
                isinstance(a.value, cst.Name) and a.value.value == ds and a.attr.value == "TYPE"
                for a in find_nodes(if_node.test, cst.Attribute)
            )
            if compares_type and find_nodes(if_node.body, cst.Raise):
                return True
        return False
