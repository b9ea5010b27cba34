"""MFX308: ``target_platform`` is derived from the submitting machine (B9)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes, module_functions
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import ImportMap
from mfx.rule import Invalid, Valid

_HOST_PROBES = ("platform.machine", "platform.processor", "platform.system", "platform.platform", "platform.uname", "os.uname", "sys.platform")


def _probes_host(imports: ImportMap, node: cst.CSTNode, funcs: dict[str, cst.FunctionDef], seen: set[str]) -> bool:
    for n in find_nodes(node, cst.Attribute):
        if imports.resolve(n) in _HOST_PROBES:
            return True
    for n in find_nodes(node, cst.Name):
        if imports.resolve(n) in _HOST_PROBES:
            return True
    for call in find_nodes(node, cst.Call):
        if isinstance(call.func, cst.Name) and call.func.value in funcs and call.func.value not in seen:
            seen.add(call.func.value)
            if _probes_host(imports, funcs[call.func.value], funcs, seen):
                return True
    return False


class TargetPlatformFromSubmitter(BackendFileRule):
    """## What it does
    Flags a step decorator whose ``target_platform`` (class attribute or ``self.target_platform
    = ...``) is computed from the machine running the code: ``platform.machine()``,
    ``platform.system()``, ``sys.platform``, ``os.uname()``, directly or through a function of
    the same module.

    ## Why is this bad?
    ``target_platform`` tells ``@conda``/``@pypi`` which platform the *workers* run. The class
    attribute is evaluated on the submitter, so an Apple Silicon laptop resolves
    ``linux-aarch64`` packages for an x86 job (pitfall B9; metaflow-sandbox).

    ## Example
    ```python
    class SandboxDecorator(StepDecorator):
        target_platform = "linux-aarch64" if platform.machine() == "arm64" else "linux-64"
    ```

    ## Use instead
    ```python
    class SandboxDecorator(StepDecorator):
        target_platform = SANDBOX_TARGET_PLATFORM or "linux-64"  # a config value or a literal
    ```
    """

    code = "MFX308"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "target-platform-from-submitter"
    message = (
        "`target_platform` is computed from the submitting machine, not the workers: use a "
        "literal such as \"linux-64\" or a configuration value"
    )
    pitfalls = ("B9",)
    applies_to_core = True

    VALID = [
        Valid(
            """
import platform
from metaflow.decorators import StepDecorator
from metaflow.metaflow_config import KUBERNETES_CONDA_ARCH

class K(StepDecorator):
    name = "k"
    supports_conda_environment = True
    target_platform = KUBERNETES_CONDA_ARCH or "linux-64"

    def task_pre_step(self, *args):
        self.arch = platform.machine()  # recorded for metadata, not the target platform
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
import os
import platform
from metaflow.decorators import StepDecorator

def _default_target_platform():
    machine = platform.machine().lower()
    return "linux-aarch64" if machine in ("arm64", "aarch64") else "linux-64"

class SandboxDecorator(StepDecorator):
    name = "sandbox"
    supports_conda_environment = True
    target_platform = os.environ.get("SANDBOX_TARGET_PLATFORM", _default_target_platform())
""",
            count=1,
            note="through a helper function (metaflow-sandbox)",
        ),
        Invalid(
            """
from platform import machine
from metaflow.decorators import StepDecorator

class D(StepDecorator):
    name = "d"
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        self.target_platform = "linux-" + machine()
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        funcs = module_functions(module)
        for d in model.decorators:
            value = d.class_attrs.get("target_platform")
            if value is not None and _probes_host(model.imports, value, funcs, set()):
                self.report(value)
            for method in d.methods.values():
                for a in find_nodes(method.body, cst.Assign):
                    if any(
                        isinstance(t.target, cst.Attribute)
                        and t.target.attr.value == "target_platform"
                        and isinstance(t.target.value, cst.Name)
                        and t.target.value.value == "self"
                        for t in a.targets
                    ) and _probes_host(model.imports, a.value, funcs, set()):
                        self.report(a.value)
