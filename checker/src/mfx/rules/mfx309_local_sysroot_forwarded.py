"""MFX309: ``METAFLOW_DATASTORE_SYSROOT_LOCAL`` is put into a task environment (B10)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

import libcst as cst

from mfx.analysis.backend_base import find_nodes
from mfx.analysis.backend_names import string_value
from mfx.analysis.backend_project import cli_for_group, compute_decorators
from mfx.analysis.orchestrator_project import may_mention
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

KEY = "METAFLOW_DATASTORE_SYSROOT_LOCAL"
_DECO = """
from metaflow.decorators import StepDecorator

class MyBk(StepDecorator):
    name = "mybk"
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
"""


class LocalSysrootForwarded(ProjectRule):
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
            {
                "ext/backend/mybk_decorator.py": _DECO,
                "ext/backend/env.py": """
import os

def env_for_task(user):
    env = {"METAFLOW_USER": user}
    env.pop("METAFLOW_DATASTORE_SYSROOT_LOCAL", None)
    # env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = ...  is wrong
    if "METAFLOW_DATASTORE_SYSROOT_LOCAL" in os.environ:
        pass
    return env
""",
            }
        ),
        Valid(
            {
                "ext/backend/mybk_decorator.py": _DECO,
                "ext/orchestrator/plan.py": """
def task_env(sysroot):
    return {"METAFLOW_DATASTORE_SYSROOT_LOCAL": sysroot}
""",
                "ext/backend/tests/test_env.py": """
LAUNCHER = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/somewhere"}
""",
            },
            note="an orchestrator's local tasks, and test inputs",
        ),
    ]
    INVALID = [
        Invalid(
            {
                "ext/backend/mybk_decorator.py": _DECO,
                "ext/backend/env.py": """
from metaflow.metaflow_config import DATASTORE_SYSROOT_LOCAL

def env_for_task(user):
    env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": DATASTORE_SYSROOT_LOCAL, "METAFLOW_USER": user}
    env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = DATASTORE_SYSROOT_LOCAL
    env.setdefault("METAFLOW_DATASTORE_SYSROOT_LOCAL", "/tmp")
    return dict(env, METAFLOW_DATASTORE_SYSROOT_LOCAL="/x")
""",
            },
            count=4,
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        dirs = set()
        for f, deco in compute_decorators(project):
            dirs.add(PurePosixPath(f.path).parent)
            cli = cli_for_group(project, deco.command_group)
            if cli is not None:
                dirs.add(PurePosixPath(cli.file.path).parent)
        if not dirs:
            return
        for f in project:
            if f.is_test or PurePosixPath(f.path).parent not in dirs:
                continue
            if not may_mention(f, (KEY,)):
                continue  # every setter names the variable in a string or a keyword
            for node in self._setters(f.module):
                yield Report(node=node, message=self.message, path=f.path)

    @staticmethod
    def _setters(module: cst.Module) -> list[cst.CSTNode]:
        out: list[cst.CSTNode] = []
        for el in find_nodes(module, cst.DictElement):
            if string_value(el.key) == KEY:
                out.append(el.key)
        for a in find_nodes(module, cst.Assign):
            for t in a.targets:
                tgt = t.target
                if isinstance(tgt, cst.Subscript) and len(tgt.slice) == 1 and isinstance(tgt.slice[0].slice, cst.Index):
                    if string_value(tgt.slice[0].slice.value) == KEY:
                        out.append(tgt)
        for call in find_nodes(module, cst.Call):
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "setdefault":
                if call.args and string_value(call.args[0].value) == KEY:
                    out.append(call)
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == KEY:
                    out.append(arg)
        return out
