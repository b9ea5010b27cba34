"""MFX315: ``runtime_step_cli`` forwards ``self.run_time_limit`` that is never computed (B18)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel
from mfx.rule import Invalid, Valid

_HEAD = """
from metaflow.decorators import StepDecorator
from metaflow.plugins.timeout_decorator import get_run_time_limit_for_task

class SlurmDecorator(StepDecorator):
    name = "slurm"
    run_time_limit = None

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["slurm", "step"]
        cli_args.command_options["run-time-limit"] = self.run_time_limit
"""


def _is_self_rtl(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Attribute)
        and node.attr.value == "run_time_limit"
        and isinstance(node.value, cst.Name)
        and node.value.value == "self"
    )


class RunTimeLimitNeverComputed(BackendFileRule):
    """## What it does
    Flags a compute-backend decorator whose ``runtime_step_cli`` forwards ``self.run_time_limit``
    while no method of the class assigns ``self.run_time_limit``.

    ## Why is this bad?
    ``run_time_limit`` then stays at its class default (``None``), the runtime drops ``None``
    options, and the job runs without a hard limit tied to ``@timeout`` (5 days by default),
    or with the platform's own limit (pitfall B18; metaflow-slurm).

    ## Example
    ```python
    run_time_limit = None
    def runtime_step_cli(self, cli_args, ...):
        cli_args.command_options["run-time-limit"] = self.run_time_limit
    ```

    ## Use instead
    ```python
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        self.run_time_limit = get_run_time_limit_for_task(decos)
    ```
    """

    code = "MFX315"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "run-time-limit-never-computed"
    message = (
        "`self.run_time_limit` is forwarded but never computed, so --run-time-limit is dropped: set "
        "`self.run_time_limit = get_run_time_limit_for_task(decos)` in `step_init`"
    )
    pitfalls = ("B18",)
    applies_to_core = True

    VALID = [
        Valid(
            _HEAD
            + """
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        self.run_time_limit = get_run_time_limit_for_task(decos)
"""
        ),
    ]
    INVALID = [Invalid(_HEAD, count=1)]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for d in model.decorators:
            cli = d.methods.get("runtime_step_cli")
            if not d.is_compute_backend or cli is None:
                continue
            reads = [a for a in find_nodes(cli.body, cst.Attribute) if _is_self_rtl(a)]
            if not reads:
                continue
            assigned = False
            for method in d.methods.values():
                for node in find_nodes(method.body, cst.AssignTarget):
                    if _is_self_rtl(node.target):
                        assigned = True
                for node in find_nodes(method.body, cst.AnnAssign):
                    if _is_self_rtl(node.target):
                        assigned = True
            if not assigned:
                self.report(reads[0])
