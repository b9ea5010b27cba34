"""MFX323: a compute backend exposes its own retry count for the platform (B15)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule
from mfx.analysis.backend_model import BackendModel
from mfx.rule import Invalid, Valid

RETRY_KEYS = frozenset({"retries", "max_retries", "num_retries", "max_attempts", "attempts", "platform_retries"})


class PlatformRetries(BackendFileRule):
    """## What it does
    Flags a retry-count attribute (``retries``, ``max_retries``, ``max_attempts``…) in the
    ``defaults`` of a compute-backend decorator.

    ## Why is this bad?
    Retries belong to Metaflow's runtime: each attempt gets its own ``--retry-count``, attempt
    directory, logs and metadata, bounded by ``@retry``. A platform or queue retry re-runs the
    *same* attempt: side effects run twice, the attempt's files are overwritten and a step runs
    more often than ``@retry`` allows (pitfall B15; metaflow-gha's queue ``max_retries``, modal's
    ``retries=`` for Modal functions).

    ## Example
    ```python
    defaults = {"cpu": None, "max_retries": 2}
    ```

    ## Use instead
    ```python
    defaults = {"cpu": None}   # users write @retry(times=2)
    ```

    ## Known problems
    An attribute that only retries the *submission* (before any user code can start) is safe;
    rename it (``submit_retries``) to make that clear.
    """

    code = "MFX323"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "platform-retries"
    message = (
        "a platform-level retry count re-runs the same attempt (same --retry-count, overwritten files, "
        "side effects doubled): remove it and let users write @retry"
    )
    pitfalls = ("B15",)
    applies_to_core = True

    VALID = [
        Valid(
            """
from metaflow.decorators import StepDecorator

class MyBk(StepDecorator):
    name = "mybk"
    defaults = {"cpu": None, "submit_retries": 3}
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]

class RetryLike(StepDecorator):
    name = "retry_like"
    defaults = {"times": 3, "max_retries": 1}
""",
            note="not a compute backend",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.decorators import StepDecorator

class GHADecorator(StepDecorator):
    name = "gha"
    defaults = {"workers": 1, "max_retries": 2}
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["gha", "step"]
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for d in model.decorators:
            keys = d.defaults_keys()
            if not d.is_compute_backend or keys is None:
                continue
            for key, node in keys.items():
                if key in RETRY_KEYS:
                    self.report(node, f"`{key}`: {self.message}")
