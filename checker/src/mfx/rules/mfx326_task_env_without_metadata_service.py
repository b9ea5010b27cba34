"""MFX326: the environment a backend gives its remote tasks lacks the metadata settings (B10)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

import libcst as cst

from mfx.analysis.backend_base import find_nodes
from mfx.analysis.backend_names import string_value
from mfx.analysis.backend_project import cli_for_group, compute_decorators
from mfx.analysis.orchestrator_names import dotted
from mfx.analysis.orchestrator_project import may_mention
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

#: What a remote task needs to register with the deploying user's metadata service.
NEEDED = ("METAFLOW_SERVICE_URL", "METAFLOW_DEFAULT_METADATA")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Names of collections that list variables to keep out of the task, not to forward.
_EXCLUDING = re.compile(r"EXCLUD|DROP|SKIP|BLOCK|DENY|REMOVE|STRIP|IGNORE|SECRET|UNSET", re.I)

_DECO = """
from metaflow.decorators import StepDecorator

class MyBk(StepDecorator):
    name = "mybk"
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
"""


class TaskEnvWithoutMetadataService(ProjectRule):
    """## What it does
    In the modules of a compute backend (the step decorator's and its CLI's directories), flags
    the environment built for the remote task — a dict display with at least two
    ``METAFLOW_*`` keys, or a list/tuple/set of at least two variable names to forward, one of
    them ``METAFLOW_*`` — when no module there forwards ``METAFLOW_SERVICE_URL`` or
    ``METAFLOW_DEFAULT_METADATA`` (by name, or by a prefix such as ``"METAFLOW_"`` that covers
    it, or by copying the launcher's whole environment).

    ## Why is this bad?
    The remote task then uses the worker's default metadata provider (``local``) and no service:
    with the service metadata its run, steps and tasks are never registered where the client
    looks, so ``Run(...)`` has no tasks and the run looks unsuccessful (pitfall B10). Metaflow's
    Batch and Kubernetes backends set both on every job.

    ## Example
    ```python
    env = {"METAFLOW_USER": user, "METAFLOW_DEFAULT_DATASTORE": ds_type}
    ```

    ## Use instead
    ```python
    env = {"METAFLOW_USER": user, "METAFLOW_DEFAULT_DATASTORE": ds_type,
           "METAFLOW_DEFAULT_METADATA": DEFAULT_METADATA, "METAFLOW_SERVICE_URL": SERVICE_INTERNAL_URL}
    ```
    """

    code = "MFX326"
    name = "task-env-without-metadata-service"
    message = (
        "the remote task's environment does not forward {missing}: the task registers with its own "
        "default metadata (local) instead of the deploying user's service"
    )
    pitfalls = ("B10",)

    VALID = [
        Valid(
            {
                "ext/backend/mybk_decorator.py": _DECO,
                "ext/backend/env.py": """
from metaflow.metaflow_config import DEFAULT_METADATA, SERVICE_INTERNAL_URL

def env_for_task(user, ds_type):
    env = {"METAFLOW_USER": user, "METAFLOW_DEFAULT_DATASTORE": ds_type,
           "METAFLOW_DEFAULT_METADATA": DEFAULT_METADATA}
    if SERVICE_INTERNAL_URL:
        env["METAFLOW_SERVICE_URL"] = SERVICE_INTERNAL_URL
    return env
""",
            }
        )
    ]
    INVALID = [
        Invalid(
            {
                "ext/backend/mybk_decorator.py": _DECO,
                "ext/backend/env.py": """
def env_for_task(user, ds_type):
    return {"METAFLOW_USER": user, "METAFLOW_DEFAULT_DATASTORE": ds_type}
""",
            },
            count=1,
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        dirs = set()
        for f, deco in compute_decorators(project):
            dirs.add(PurePosixPath(f.path).parent)
            cli = cli_for_group(project, deco.command_group)
            if cli is not None:
                dirs.add(PurePosixPath(cli.file.path).parent)
        if not dirs:
            return []
        files = [f for f in project if not f.is_test and PurePosixPath(f.path).parent in dirs]
        files = [f for f in files if may_mention(f, ("METAFLOW_",))]
        missing = list(NEEDED)
        first: tuple | None = None
        for f in files:
            for node in find_nodes(f.module, (cst.SimpleString, cst.FormattedStringText, cst.Name, cst.Attribute)):
                covered = self._covers(node)
                missing = [m for m in missing if not covered(m)]
            if not missing:
                return []
            if first is None:
                coll = self._env_collection(f.module)
                if coll is not None:
                    first = (f, coll)
        if first is None:
            return []
        f, node = first
        return [Report(node=node, message=self.message.format(missing=" and ".join(missing)), path=f.path)]

    @staticmethod
    def _covers(node: cst.CSTNode):
        """A predicate: does this node forward the variable (its name, a prefix of it, or the
        whole launcher environment)?"""
        text: str | None = None
        if isinstance(node, cst.SimpleString):
            text = string_value(node)
        elif isinstance(node, cst.FormattedStringText):
            text = node.value
        elif isinstance(node, cst.Name):
            text = node.value  # keyword arguments: dict(env, METAFLOW_SERVICE_URL=...)
        elif isinstance(node, cst.Attribute) and dotted(node) == "os.environ":
            return lambda name: False
        if not text:
            return lambda name: False
        t = text.strip()
        if t in NEEDED:
            return lambda name: name == t
        # a forwarded prefix ("METAFLOW_", "METAFLOW_SERVICE"), not a sentence that mentions it
        if t.startswith("METAFLOW_") and _ENV_NAME.match(t) and t.endswith("_") or t in ("METAFLOW_SERVICE", "METAFLOW_DEFAULT"):
            return lambda name: name.startswith(t)
        return lambda name: False

    @staticmethod
    def _env_collection(module: cst.Module) -> cst.CSTNode | None:
        whole = any(
            dotted(n.args[0].value) in ("os.environ", "environ")
            for n in find_nodes(module, cst.Call)
            if dotted(n.func) == "dict" and n.args
        ) or any(
            isinstance(n.func, cst.Attribute)
            and n.func.attr.value == "copy"
            and dotted(n.func.value) in ("os.environ", "environ")
            for n in find_nodes(module, cst.Call)
        )
        if whole:
            return None
        named = {}
        for a in find_nodes(module, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in a.targets] if isinstance(a, cst.Assign) else [a.target]
            for t in targets:
                name = dotted(t)
                if name and a.value is not None:
                    named[id(a.value)] = name
        for n in find_nodes(module, (cst.Dict, cst.List, cst.Tuple, cst.Set)):
            if _EXCLUDING.search(named.get(id(n), "")):
                continue  # names kept out of the task
            if isinstance(n, cst.Dict):
                keys = [string_value(e.key) for e in n.elements if isinstance(e, cst.DictElement)]
                if sum(1 for k in keys if k and k.startswith("METAFLOW_")) >= 2:
                    return n
                continue
            names = [string_value(e.value) for e in n.elements]
            if len(names) < 2 or not all(v and _ENV_NAME.match(v) for v in names):
                continue
            if not any(v.startswith("METAFLOW_") for v in names):  # type: ignore[union-attr]
                continue
            return n
        return None
