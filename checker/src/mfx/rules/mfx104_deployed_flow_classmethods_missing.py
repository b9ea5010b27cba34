"""MFX104: a DeployedFlow subclass inherits the Argo dispatchers for deployment look-ups."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import (
    DEPLOYED_FLOW,
    decorator_names,
    methods,
    subclasses,
)
from mfx.analysis.orchestrator_names import top_level_classes
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_REQUIRED = ("from_deployment", "get_triggered_run", "list_deployed_flows")


class DeployedFlowClassmethodsMissing(Rule):
    """## What it does
    Flags a subclass of Metaflow's ``DeployedFlow`` that does not define ``from_deployment``,
    ``get_triggered_run`` and ``list_deployed_flows`` as classmethods.

    ## Why is this bad?
    ``DeployedFlowMeta`` injects these three classmethods into the *base* class with ``impl``
    defaulting to ``argo-workflows``. A provider that does not override them silently dispatches
    ``MyDeployedFlow.from_deployment(...)`` to Argo's implementation, which fails with Kubernetes
    errors (pitfall O23). If a look-up is not possible, override it and raise
    ``NotImplementedError`` with a reason, as Step Functions does.

    ## Example
    ```python
    class MyDeployedFlow(DeployedFlow):
        TYPE = "my-orch"
        def trigger(self, **kwargs): ...
    ```

    ## Use instead
    ```python
    class MyDeployedFlow(DeployedFlow):
        TYPE = "my-orch"
        def trigger(self, **kwargs): ...
        @classmethod
        def from_deployment(cls, identifier, metadata=None): ...
        @classmethod
        def get_triggered_run(cls, identifier, run_id, metadata=None): ...
        @classmethod
        def list_deployed_flows(cls, flow_name=None): ...
    ```
    """

    code = "MFX104"
    # Applicability pre-check (mfx.applicability), sound because it reports only on classes deriving
    # (directly or through a class of the file) from a base resolving to `...DeployedFlow`: the
    # identifier is written in the file
    TRIGGERS = ("DeployedFlow",)
    name = "deployed-flow-classmethods-missing"
    message = "DeployedFlow subclass does not override {missing}: the inherited versions dispatch to Argo Workflows; define them as classmethods (raise NotImplementedError if unsupported)"
    pitfalls = ("O23",)

    VALID = [
        Valid(
            """
from metaflow.runner.deployer import DeployedFlow

class MyDeployedFlow(DeployedFlow):
    TYPE = "my"

    @classmethod
    def from_deployment(cls, identifier, metadata=None):
        raise NotImplementedError("from_deployment is not supported by my")

    @classmethod
    def get_triggered_run(cls, identifier, run_id, metadata=None):
        raise NotImplementedError("not supported")

    @classmethod
    def list_deployed_flows(cls, flow_name=None):
        raise NotImplementedError("not supported")
"""
        ),
        Valid(
            """
class DeployedFlow:
    def trigger(self):
        pass

class Mine(DeployedFlow):
    pass
""",
            note="a local class that happens to be called DeployedFlow",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.runner.deployer import DeployedFlow

class ToyDeployedFlow(DeployedFlow):
    TYPE = "toy"

    @classmethod
    def from_deployment(cls, identifier, **kwargs):
        pass

    def trigger(self, **kwargs):
        pass
""",
            count=1,
        ),
        Invalid(
            """
from metaflow.runner.deployer import DeployedFlow

class ToyDeployedFlow(DeployedFlow):
    def from_deployment(self, identifier, metadata=None):
        pass

    @classmethod
    def get_triggered_run(cls, identifier, run_id, metadata=None):
        pass

    @staticmethod
    def list_deployed_flows(flow_name=None):
        pass
""",
            count=2,
            note="defined, but not as classmethods",
        ),
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        local = {c.name.value: c for c in top_level_classes(file.module)}
        for cls in subclasses(file.module, DEPLOYED_FLOW):
            defined = dict(methods(cls))
            # Methods inherited from intermediate classes of the same module count.
            for base in cls.bases:
                if isinstance(base.value, cst.Name) and base.value.value in local:
                    for k, v in methods(local[base.value.value]).items():
                        defined.setdefault(k, v)
            missing = [m for m in _REQUIRED if m not in defined]
            if missing:
                yield self.report(cls.name, self.message.format(missing="`" + "`, `".join(missing) + "`"))
            for m in _REQUIRED:
                func = defined.get(m)
                if func is not None and "classmethod" not in decorator_names(func):
                    yield self.report(
                        func.name,
                        f"`{m}` must be a classmethod: `DeployedFlow.{m}(...)` and "
                        f"`DeployedFlow.{m}(..., impl=TYPE)` call it on the class",
                    )
