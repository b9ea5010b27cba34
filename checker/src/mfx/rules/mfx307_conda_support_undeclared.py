"""MFX307: a compute backend does not declare ``supports_conda_environment`` (B9)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule
from mfx.analysis.backend_model import BackendModel
from mfx.rule import Applicability, Fix, Invalid, Valid

#: Decorator names Metaflow's conda environment treats as remote without the attribute
#: (``plugins/pypi/conda_environment.py``).
CORE_REMOTE_NAMES = frozenset({"batch", "kubernetes", "nvidia", "snowpark", "slurm", "nvct", "skypilot_step"})


class CondaSupportUndeclared(BackendFileRule):
    """## What it does
    Flags a compute-backend decorator class (its ``runtime_step_cli`` rewrites the task command)
    that has no class attribute ``supports_conda_environment = True``, unless its ``name`` is one
    Metaflow already treats as remote.

    ## Why is this bad?
    ``@conda``/``@pypi`` resolve packages for the platform of the first step decorator that
    declares ``supports_conda_environment = True`` (using its ``target_platform``, default
    ``linux-64``). Without it they resolve for the submitter's platform: a Mac launcher ships
    ``osx-arm64`` packages to a Linux job (pitfall B9; modal).

    ## Example
    ```python
    class MyBackendDecorator(StepDecorator):
        name = "mybk"
    ```

    ## Use instead
    ```python
    class MyBackendDecorator(StepDecorator):
        name = "mybk"
        supports_conda_environment = True
        target_platform = "linux-64"
    ```

    ## Fix safety
    The fix adds both class attributes after ``name``. It is unsafe: ``linux-64`` may not be the
    platform of the backend's workers.
    """

    code = "MFX307"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "conda-support-undeclared"
    message = (
        "compute backend without `supports_conda_environment = True`: @conda/@pypi resolve for the "
        "submitter's platform; declare it with `target_platform = \"linux-64\"` (or the workers' platform)"
    )
    pitfalls = ("B9",)
    fix = Applicability.UNSAFE
    applies_to_core = True

    VALID = [
        Valid(
            """
from metaflow.decorators import StepDecorator

class MyBk(StepDecorator):
    name = "mybk"
    supports_conda_environment = True
    target_platform = "linux-64"

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
"""
        ),
        Valid(
            """
from metaflow.decorators import StepDecorator

class Slurm(StepDecorator):
    name = "slurm"

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["slurm", "step"]
""",
            note="a name in Metaflow's hard-coded list",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.decorators import StepDecorator

class ModalDecorator(StepDecorator):
    name = "modal"

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["modal", "step"]
""",
            count=1,
            fixed="""
from metaflow.decorators import StepDecorator

class ModalDecorator(StepDecorator):
    name = "modal"
    supports_conda_environment = True
    target_platform = "linux-64"

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["modal", "step"]
""",
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for d in model.decorators:
            if not d.is_compute_backend or d.deco_name in CORE_REMOTE_NAMES:
                continue
            value = d.class_attrs.get("supports_conda_environment")
            if isinstance(value, cst.Name) and value.value == "True":
                continue
            if value is not None:
                continue  # computed: not ours to judge
            self.report(d.node.name, fix=self._fix(module, d))

    @staticmethod
    def _fix(module: cst.Module, d) -> Fix | None:
        body = d.node.body
        if not isinstance(body, cst.IndentedBlock):
            return None
        indent = body.indent if body.indent is not None else module.default_indent
        for stmt in body.body:
            if isinstance(stmt, cst.SimpleStatementLine) and any(
                isinstance(s, cst.Assign)
                and any(isinstance(t.target, cst.Name) and t.target.value == "name" for t in s.targets)
                for s in stmt.body
            ):
                code = module.code_for_node(stmt).strip("\n")
                lines = code.splitlines()
                text = lines[-1].strip() if len(lines) == 1 else None
                if text is None:
                    return None
                extra = "target_platform" not in d.class_attrs
                replacement = text + "\n" + indent + "supports_conda_environment = True"
                if extra:
                    replacement += "\n" + indent + 'target_platform = "linux-64"'
                return Fix(stmt, replacement, Applicability.UNSAFE, "Declare conda support for linux-64")
        return None
