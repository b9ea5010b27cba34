"""MFX024: a step decorator's ``defaults`` is computed instead of written as a literal (pitfall B21)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel
from mfx.rule import Invalid, Valid

_PURE_BUILTINS = frozenset({"dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool"})


class DecoratorDefaultsComputed(BackendFileRule):
    """## What it does
    Flags a ``StepDecorator`` subclass whose ``defaults`` class attribute is not a dict literal,
    or whose literal contains a call (for example ``**_get_sdk_defaults()`` or
    ``os.environ.get(...)``). Names of constants (``KUBERNETES_NAMESPACE``) are fine.

    ## Why is this bad?
    ``defaults`` decides which attributes the decorator accepts. It is evaluated at import time
    in every process: the launcher, the trampoline and the remote task. When it is computed
    from an SDK signature (skypilot: ``inspect.signature(sky.Resources.__init__)``) or from the
    environment, the remote task, which may lack the SDK, computes a different set and rejects
    the attributes the launcher serialised with ``--with`` (``InvalidDecoratorAttribute``)
    (pitfall B21).

    ## Example
    ```python
    class SkyDecorator(StepDecorator):
        defaults = {**_sdk_defaults(), "cluster_name": None}
    ```

    ## Use instead
    ```python
    class SkyDecorator(StepDecorator):
        defaults = {"cpus": None, "memory": None, "cluster_name": None}
    ```
    """

    code = "MFX024"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "decorator-defaults-computed"
    message = (
        "`defaults` of a step decorator must be a literal dict: it is evaluated in every process "
        "and a computed value differs between launcher and remote; write the keys out"
    )
    pitfalls = ("B21",)
    applies_to_core = True

    VALID = [
        Valid(
            """
from metaflow.decorators import StepDecorator
from metaflow.metaflow_config import KUBERNETES_NAMESPACE

class K(StepDecorator):
    name = "k"
    defaults = {"cpu": None, "namespace": KUBERNETES_NAMESPACE, "tags": dict(), "n": int("1")}
"""
        ),
        Valid(
            """
class NotADecorator:
    defaults = compute()
""",
            note="not a step decorator",
        ),
    ]
    INVALID = [
        Invalid(
            """
import inspect
from metaflow.decorators import StepDecorator

def _get_sky_defaults():
    import sky
    return {k: None for k in inspect.signature(sky.Resources.__init__).parameters}

class SkyDecorator(StepDecorator):
    name = "sky"
    defaults = {**_get_sky_defaults(), "cluster_name": None}
""",
            count=1,
        ),
        Invalid(
            """
import os
from metaflow.decorators import StepDecorator

class D(StepDecorator):
    name = "d"
    defaults = {"image": os.environ.get("MY_IMAGE"), "cpu": None}
""",
            count=1,
        ),
        Invalid(
            """
from metaflow.decorators import StepDecorator

class D(StepDecorator):
    name = "d"
    defaults = {k: None for k in ("cpu", "memory")}
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for d in model.decorators:
            value = d.defaults
            if value is None:
                continue
            problem = self._problem(value)
            if problem is not None:
                self.report(value, f"{self.message} ({problem})")

    @staticmethod
    def _problem(value: cst.BaseExpression) -> str | None:
        if not isinstance(value, cst.Dict):
            return "not a dict literal"
        for call in find_nodes(value, cst.Call):
            if isinstance(call.func, cst.Name) and call.func.value in _PURE_BUILTINS:
                continue
            return "it calls a function"
        return None
