"""MFX314: a compute backend with cpu/memory attributes ignores ``@resources`` (B19)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, calls_named, find_nodes
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import string_value
from mfx.rule import Invalid, Valid

_HEAD = """
from metaflow.decorators import StepDecorator
from metaflow.plugins.aws.aws_utils import compute_resource_attributes

class MyBk(StepDecorator):
    name = "mybk"
    defaults = {"cpu": None, "memory": None, "image": None}
    resource_defaults = {"cpu": "1", "memory": "4096"}

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
"""


class ResourcesNotMerged(BackendFileRule):
    """## What it does
    Flags a compute-backend decorator whose ``defaults`` has ``cpu`` or ``memory`` but whose
    class never merges ``@resources``: no ``compute_resource_attributes(...)`` call, no
    ``ResourcesDecorator`` reference and no comparison with ``"resources"``.

    ## Why is this bad?
    ``@resources`` does nothing by itself; each compute decorator must merge its values into its
    own attributes in ``step_init``. Without the merge a step asking for
    ``@resources(cpu=8, memory=32000)`` runs with the backend's defaults (pitfall B19;
    metaflow-sandbox, metaflow-slurm).

    ## Example
    ```python
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        self.run_time_limit = get_run_time_limit_for_task(decos)
    ```

    ## Use instead
    ```python
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        self.attributes.update(compute_resource_attributes(decos, self, self.resource_defaults))
        self.run_time_limit = get_run_time_limit_for_task(decos)
    ```
    """

    code = "MFX314"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "resources-not-merged"
    message = (
        "compute backend never merges @resources into its cpu/memory attributes: call "
        "`compute_resource_attributes(decos, self, self.resource_defaults)` in `step_init`"
    )
    pitfalls = ("B19",)
    applies_to_core = True

    VALID = [
        Valid(
            _HEAD
            + """
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        self.attributes.update(compute_resource_attributes(decos, self, self.resource_defaults))
"""
        ),
        Valid(
            _HEAD
            + """
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        for deco in decos:
            if deco.name == "resources":
                self.attributes["cpu"] = deco.attributes["cpu"]
""",
            note="a hand-written merge on deco.attributes",
        ),
    ]
    INVALID = [
        Invalid(
            _HEAD
            + """
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        # compute_resource_attributes(decos, self, self.resource_defaults)
        self.decos = decos
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for d in model.decorators:
            keys = d.defaults_keys()
            if not d.is_compute_backend or keys is None or not ({"cpu", "memory"} & set(keys)):
                continue
            if calls_named(d.node, "compute_resource_attributes"):
                continue
            if any(n.value == "ResourcesDecorator" for n in find_nodes(d.node, cst.Name)):
                continue
            if any(
                string_value(s) == "resources"
                for cmp in find_nodes(d.node, cst.Comparison)
                for s in find_nodes(cmp, cst.SimpleString)
            ):
                continue
            self.report(d.node.name)
