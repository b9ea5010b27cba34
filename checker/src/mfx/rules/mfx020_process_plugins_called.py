"""MFX020: an extension calls Metaflow's ``process_plugins`` itself (pitfall B2)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule
from mfx.analysis.backend_model import BackendModel
from mfx.rule import Applicability, Fix, Invalid, Valid


class ProcessPluginsCalled(BackendFileRule):
    """## What it does
    Flags a call of Metaflow's ``process_plugins`` (from ``metaflow.extension_support.plugins``)
    in an extension module.

    ## Why is this bad?
    Metaflow calls ``process_plugins`` once, after it has merged every extension's ``*_DESC``
    lists. Calling it again from an extension's ``plugins`` module re-initialises the plugin
    registries: Metaflow then offers no datastore at all (``Error: Invalid value for
    '--datastore': invalid choice: s3. (choose from )``) and every flow breaks (pitfall B2; the
    metaflow-backend-kit scaffold ships this call).

    ## Example
    ```python
    from metaflow.extension_support.plugins import process_plugins

    STEP_DECORATORS_DESC = [("my_backend", ".my_backend_decorator.MyBackendDecorator")]
    process_plugins(globals())
    ```

    ## Use instead
    ```python
    STEP_DECORATORS_DESC = [("my_backend", ".my_backend_decorator.MyBackendDecorator")]
    ```

    ## Fix safety
    The fix deletes the call statement. It is unsafe because it changes what the module does at
    import time (which is the point: the call must not run).
    """

    code = "MFX020"
    # Applicability pre-check (mfx.applicability), sound because it reports calls whose resolved
    # name ends with `.process_plugins`; names resolve only by joining identifiers written in the
    # file, so `process_plugins` is written in it
    TRIGGERS = ("process_plugins",)
    name = "process-plugins-called"
    message = (
        "do not call `process_plugins` in an extension: Metaflow calls it after merging every "
        "extension's *_DESC lists, a second call empties the plugin registries; delete the call"
    )
    pitfalls = ("B2",)
    fix = Applicability.UNSAFE
    applies_to_core = False

    VALID = [
        Valid(
            """
from metaflow.extension_support.plugins import merge_lists, process_plugins  # noqa: F401

CLIS_DESC = [("my_backend", ".my_backend_cli.cli")]
# process_plugins(globals())  -- a comment is not a call
doc = "process_plugins(globals())"
""",
            note="importing it (gha does) is harmless; comments and strings are not code",
        ),
        Valid(
            """
def process_plugins(x):
    return x

process_plugins({})
""",
            note="a local function of the same name is not Metaflow's",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.extension_support.plugins import process_plugins

process_plugins(globals())
STEP_DECORATORS_DESC = [("mybk", ".mybk_decorator.MyBkDecorator")]
""",
            count=1,
            fixed="""
from metaflow.extension_support.plugins import process_plugins


STEP_DECORATORS_DESC = [("mybk", ".mybk_decorator.MyBkDecorator")]
""",
        ),
        Invalid(
            """
import metaflow.extension_support.plugins as mfplugins

mfplugins.process_plugins(globals())
""",
            count=1,
            note="module alias",
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for stmt in module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    self._check_call(model, small.value, stmt if len(stmt.body) == 1 else None)

    def _check_call(self, model: BackendModel, call: cst.Call, line: cst.SimpleStatementLine | None) -> None:
        full = model.imports.resolve(call.func)
        if not full or not full.startswith("metaflow.") or not full.endswith(".process_plugins"):
            return
        fix = None
        if line is not None:
            fix = Fix(line, cst.RemovalSentinel.REMOVE, Applicability.UNSAFE, "Delete the call")
        self.report(call, fix=fix)
