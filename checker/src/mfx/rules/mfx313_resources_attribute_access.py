"""MFX313: ``@resources`` values are read as attributes of the decorator object (B19)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import string_value
from mfx.rule import Applicability, Fix, Invalid, Valid

RESOURCE_KEYS = frozenset({"cpu", "memory", "gpu", "disk", "shared_memory"})


class ResourcesAttributeAccess(BackendFileRule):
    """## What it does
    Inside a step decorator class, for a loop variable that iterates over decorators
    (``for deco in decos``), flags ``hasattr(deco, "cpu")``, ``getattr(deco, "memory", ...)``
    and ``deco.cpu`` for the ``@resources`` keys ``cpu``, ``memory``, ``gpu``, ``disk``,
    ``shared_memory``.

    ## Why is this bad?
    A decorator's values live in ``deco.attributes[...]``; ``ResourcesDecorator`` has no ``cpu``
    attribute, so ``hasattr(deco, "cpu")`` is always false and the merge is dead code: the job
    gets the backend's defaults instead of the ``@resources`` request (pitfall B19; modal).

    ## Example
    ```python
    for deco in decos:
        if deco.name == "resources" and hasattr(deco, "cpu"):
            self.attributes["cpu"] = deco.cpu
    ```

    ## Use instead
    ```python
    self.attributes.update(compute_resource_attributes(decos, self, self.resource_defaults))
    ```

    ## Fix safety
    ``deco.cpu`` becomes ``deco.attributes["cpu"]``. Unsafe: the previously dead code starts to
    run.
    """

    code = "MFX313"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "resources-attribute-access"
    message = (
        "decorator values live in `deco.attributes[...]`: this `@resources` lookup on the decorator "
        "object is always missing, so the merge never happens; read `deco.attributes[...]` or use "
        "`compute_resource_attributes`"
    )
    pitfalls = ("B19",)
    fix = Applicability.UNSAFE
    applies_to_core = True

    VALID = [
        Valid(
            """
from metaflow.decorators import StepDecorator

class D(StepDecorator):
    name = "d"
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        for deco in decos:
            if deco.name == "resources":
                self.attributes["cpu"] = deco.attributes["cpu"]
        for thing in [object()]:
            pass
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.decorators import StepDecorator

class ModalDecorator(StepDecorator):
    name = "modal"
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        for deco in decos:
            if deco.name == "resources":
                if hasattr(deco, "cpu") and deco.cpu is not None:
                    self.attributes["cpu"] = deco.cpu
""",
            count=1,
        ),
        Invalid(
            """
from metaflow.decorators import StepDecorator

class D(StepDecorator):
    name = "d"
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        for deco in decos:
            if deco.name == "resources":
                self.attributes["memory"] = deco.memory
""",
            count=1,
            fixed="""
from metaflow.decorators import StepDecorator

class D(StepDecorator):
    name = "d"
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        for deco in decos:
            if deco.name == "resources":
                self.attributes["memory"] = deco.attributes["memory"]
""",
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for d in model.decorators:
            for method in d.methods.values():
                for loop in find_nodes(method.body, cst.For):
                    if isinstance(loop.target, cst.Name) and isinstance(loop.iter, cst.Name):
                        self._check_loop(loop.target.value, loop.body)

    def _check_loop(self, var: str, body: cst.CSTNode) -> None:
        guarded: set[str] = set()
        hits: list[cst.Call] = []
        for call in find_nodes(body, cst.Call):
            if (
                isinstance(call.func, cst.Name)
                and call.func.value in ("hasattr", "getattr")
                and len(call.args) >= 2
                and isinstance(call.args[0].value, cst.Name)
                and call.args[0].value.value == var
                and string_value(call.args[1].value) in RESOURCE_KEYS
            ):
                guarded.add(string_value(call.args[1].value))
                hits.append(call)
        for call in hits:
            self.report(call)
        for attr in find_nodes(body, cst.Attribute):
            if (
                isinstance(attr.value, cst.Name)
                and attr.value.value == var
                and attr.attr.value in RESOURCE_KEYS
                and attr.attr.value not in guarded
            ):
                replacement = cst.Subscript(
                    value=cst.Attribute(value=cst.Name(var), attr=cst.Name("attributes")),
                    slice=[cst.SubscriptElement(slice=cst.Index(value=cst.SimpleString(f'"{attr.attr.value}"')))],
                )
                self.report(attr, fix=Fix(attr, replacement, Applicability.UNSAFE, "Read deco.attributes[...]"))
