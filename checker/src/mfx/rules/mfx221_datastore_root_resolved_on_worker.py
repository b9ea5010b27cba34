"""MFX221: the worker resolves the datastore root itself instead of using the forwarded one."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import SCOPES, dotted, import_map, qualify, string_value, walk
from mfx.analysis.orchestrator_project import nodes_of
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_CONFIG = ("metaflow.metaflow_config", "metaflow_config")
#: Calls that start a process: a function making one runs the task (it is the worker).
_SPAWN = {
    "subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
    "subprocess.check_output", "os.system", "os.execv", "os.execvp", "os.execvpe", "os.execve",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
}
#: Decorators of functions a scheduler runs on its workers (Temporal activities, Airflow tasks …).
_WORKER_DECORATORS = {"activity.defn", "task", "dag.task", "app.task", "shared_task", "celery.task"}


class DatastoreRootResolvedOnWorker(Rule):
    """## What it does
    Flags, inside a function that runs on the worker (it starts the task's process with
    ``subprocess``/``os.exec*``, is a scheduler task such as ``@activity.defn``, or lives in a
    script with an ``if __name__ == "__main__"`` block), an expression that resolves the datastore
    root from the worker's own configuration: ``get_datastore_root_from_config(...)``, a
    ``DATASTORE_SYSROOT_*`` value of ``metaflow.metaflow_config``, or a local root built from the
    current directory and ``".metaflow"``. (``DATASTORE_LOCAL_DIR`` alone is the name of the
    local metadata directory that backends sync back, not a root.)

    ## Why is this bad?
    The worker's configuration is not the deploying user's: another profile, no
    ``METAFLOW_DATASTORE_SYSROOT_*`` at all, or another working directory. The task then writes
    to a root the client never polls and ``triggered_run.run`` stays None (pitfall O21), even
    though the compiler forwards ``--datastore-root``. Use the value the deployment forwarded
    (the task command's ``--datastore-root``, or a variable the deployer sets).

    ## Example
    ```python
    @activity.defn
    async def run_step(cmd: list):
        root = DATASTORE_SYSROOT_S3
        subprocess.run(cmd + ["--datastore-root", root], check=True)
    ```

    ## Use instead
    ```python
    @activity.defn
    async def run_step(cmd: list):
        subprocess.run(cmd, check=True)  # cmd carries the deploy-time --datastore-root
    ```
    """

    code = "MFX221"
    # Applicability pre-check (mfx.applicability), sound because every reported expression spells
    # one of these identifiers: the function or constant name, or `getcwd`/`cwd` of the current
    # directory a local root is built from
    TRIGGERS = ("get_datastore_root_from_config", "DATASTORE_SYSROOT_", "cwd")
    name = "datastore-root-resolved-on-worker"
    message = (
        "the worker resolves the datastore root from its own configuration: use the deploy-time "
        "root the task command forwards (`--datastore-root`) instead"
    )
    pitfalls = ("O21",)

    VALID = [
        Valid(
            """
from metaflow.metaflow_config import DATASTORE_SYSROOT_S3

def task_env(flow_datastore):
    # the compiler, at deploy time: forwards its own root
    return {"METAFLOW_DATASTORE_SYSROOT_S3": DATASTORE_SYSROOT_S3,
            "root": "--datastore-root=%s" % flow_datastore.datastore_root}
"""
        ),
        Valid(
            """
import os, subprocess

def run_step(cmd):
    root = os.environ["ORCH_DATASTORE_ROOT"]  # set by the deployer
    subprocess.run(cmd + ["--datastore-root", root], check=True)
""",
            note="a worker using the forwarded value",
        ),
    ]
    INVALID = [
        Invalid(
            """
import subprocess
from metaflow.metaflow_config import DATASTORE_SYSROOT_S3

def run_step(cmd):
    root = DATASTORE_SYSROOT_S3
    subprocess.run(cmd + ["--datastore-root", root], check=True)
""",
            count=1,
        )
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        imports = import_map(file.module)
        if not any(self._resolves_root(n, imports) for n in nodes_of(file)):
            return  # one walk decides for most files: nothing resolves a root
        script = any(self._is_main_guard(s) for s in file.module.body)
        for func in nodes_of(file):
            if type(func) is not cst.FunctionDef:
                continue
            nodes = walk(func.body, SCOPES)
            if not (script or self._is_worker(func, nodes, imports)):
                continue
            flagged: list = []
            for n in nodes:
                if self._resolves_root(n, imports) and not any(self._inside(n, f) for f in flagged):
                    flagged.append(n)
                    yield self.report(n)

    @staticmethod
    def _inside(n: cst.CSTNode, outer: cst.CSTNode) -> bool:
        return any(x is n for x in walk(outer))

    @staticmethod
    def _is_main_guard(stmt: cst.CSTNode) -> bool:
        if not isinstance(stmt, cst.If) or not isinstance(stmt.test, cst.Comparison):
            return False
        sides = [stmt.test.left] + [c.comparator for c in stmt.test.comparisons]
        return any(dotted(s) == "__name__" for s in sides) and any(string_value(s) == "__main__" for s in sides)

    @staticmethod
    def _is_worker(func: cst.FunctionDef, nodes: list, imports: dict) -> bool:
        for d in func.decorators:
            expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
            name = dotted(expr) or ""
            if name in _WORKER_DECORATORS or name.endswith(".task") or name.endswith("activity.defn"):
                return True
        for n in nodes:
            if type(n) is cst.Call:
                q = qualify(n.func, imports) or dotted(n.func) or ""  # type: ignore[attr-defined]
                if q in _SPAWN:
                    return True
        return False

    @staticmethod
    def _resolves_root(n: cst.CSTNode, imports: dict) -> bool:
        if type(n) is cst.Call:
            func = n.func  # type: ignore[attr-defined]
            name = func.attr.value if isinstance(func, cst.Attribute) else dotted(func)
            if name == "get_datastore_root_from_config":
                return True
            # os.path.join(os.getcwd(), ".metaflow") / Path.cwd() / ".metaflow"
            if name in ("join", "Path") and any(string_value(a.value) == ".metaflow" for a in n.args):  # type: ignore[attr-defined]
                return any(_is_cwd(x) for a in n.args for x in walk(a.value))  # type: ignore[attr-defined]
            return False
        if type(n) is cst.BinaryOperation and isinstance(n.operator, cst.Divide):  # type: ignore[attr-defined]
            return string_value(n.right) == ".metaflow" and any(_is_cwd(x) for x in walk(n.left))  # type: ignore[attr-defined]
        if type(n) is cst.Name and n.value.startswith("DATASTORE_SYSROOT_"):  # type: ignore[attr-defined]
            return imports.get(n.value, "").startswith(_CONFIG)  # type: ignore[attr-defined]
        if type(n) is cst.Attribute:
            attr = n.attr.value  # type: ignore[attr-defined]
            if attr.startswith("DATASTORE_SYSROOT_"):
                owner = qualify(n.value, imports) or dotted(n.value) or ""  # type: ignore[attr-defined]
                return owner.endswith(_CONFIG)
        return False


def _is_cwd(n: cst.CSTNode) -> bool:
    if type(n) is not cst.Call:
        return False
    name = dotted(n.func) or ""  # type: ignore[attr-defined]
    return name in ("os.getcwd", "getcwd", "Path.cwd", "pathlib.Path.cwd")
