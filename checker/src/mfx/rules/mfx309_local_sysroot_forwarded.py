"""MFX309: ``METAFLOW_DATASTORE_SYSROOT_LOCAL`` is put into a task environment (B10)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import string_value
from mfx.rule import Invalid, Valid

KEY = "METAFLOW_DATASTORE_SYSROOT_LOCAL"


class LocalSysrootForwarded(BackendFileRule):
    """## What it does
    Flags code that sets ``METAFLOW_DATASTORE_SYSROOT_LOCAL`` in a mapping: as a dict literal
    key, ``env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = ...``, ``env.setdefault(...)`` or a keyword
    argument.

    ## Why is this bad?
    With local metadata the remote task writes its metadata under ``./.metaflow`` of its fresh
    working directory, and the backend syncs that directory back to the launcher. Forwarding
    the launcher's ``METAFLOW_DATASTORE_SYSROOT_LOCAL`` makes the remote write somewhere else,
    so the sync finds nothing and the client sees an unsuccessful run (pitfall B10;
    ``batch.py``/``kubernetes.py`` leave it out on purpose).

    ## Example
    ```python
    env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": DATASTORE_SYSROOT_LOCAL, "METAFLOW_USER": user}
    ```

    ## Use instead
    ```python
    env = {"METAFLOW_USER": user}
    ```
    """

    code = "MFX309"
    name = "local-sysroot-forwarded"
    message = (
        "do not forward METAFLOW_DATASTORE_SYSROOT_LOCAL to a task: the remote must write metadata "
        "under its own ./.metaflow for the local-metadata sync; remove this entry"
    )
    pitfalls = ("B10",)
    applies_to_core = True

    VALID = [
        Valid(
            """
import os

def env_for_task(user):
    env = {"METAFLOW_USER": user}
    env.pop("METAFLOW_DATASTORE_SYSROOT_LOCAL", None)
    # env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = ...  is wrong
    if "METAFLOW_DATASTORE_SYSROOT_LOCAL" in os.environ:
        pass
    return env
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.metaflow_config import DATASTORE_SYSROOT_LOCAL

def env_for_task(user):
    env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": DATASTORE_SYSROOT_LOCAL, "METAFLOW_USER": user}
    env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = DATASTORE_SYSROOT_LOCAL
    env.setdefault("METAFLOW_DATASTORE_SYSROOT_LOCAL", "/tmp")
    return dict(env, METAFLOW_DATASTORE_SYSROOT_LOCAL="/x")
""",
            count=4,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for el in find_nodes(module, cst.DictElement):
            if string_value(el.key) == KEY:
                self.report(el.key)
        for a in find_nodes(module, cst.Assign):
            for t in a.targets:
                tgt = t.target
                if isinstance(tgt, cst.Subscript) and len(tgt.slice) == 1 and isinstance(tgt.slice[0].slice, cst.Index):
                    if string_value(tgt.slice[0].slice.value) == KEY:
                        self.report(tgt)
        for call in find_nodes(module, cst.Call):
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "setdefault":
                if call.args and string_value(call.args[0].value) == KEY:
                    self.report(call)
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == KEY:
                    self.report(arg)
