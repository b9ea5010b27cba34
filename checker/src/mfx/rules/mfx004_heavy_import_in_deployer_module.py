"""MFX004: a module Metaflow imports eagerly pulls in a third-party package at module level."""

from __future__ import annotations

import sys
import sysconfig
from collections.abc import Iterable, Iterator
from functools import lru_cache

import libcst as cst

from mfx.analysis.orchestrator_names import dotted
from mfx.analysis.orchestrator_registration import all_desc_entries, resolve_target
from mfx.engine.context import FileContext, ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

#: Registration lists whose targets ``import metaflow`` resolves eagerly (step decorators are
#: checked by MFX023).
_EAGER = ("DEPLOYER_IMPL_PROVIDERS_DESC", "FLOW_DECORATORS_DESC")
_LIGHT_ROOTS = {"metaflow", "__future__", "typing_extensions"}

_REG_PATH = "metaflow_extensions/my_orch/plugins/mfextinit_my_orch.py"
_DEP_PATH = "metaflow_extensions/my_orch/plugins/my_orch/deployer.py"
_CLIENT_PATH = "metaflow_extensions/my_orch/plugins/my_orch/client.py"
_REG = 'DEPLOYER_IMPL_PROVIDERS_DESC = [("my-orch", ".my_orch.deployer.MyOrchDeployer")]\n'


@lru_cache(maxsize=1024)
def is_stdlib(name: str) -> bool:
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:  # Python >= 3.10
        return name in names
    if name in sys.builtin_module_names:
        return True
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    origin = getattr(spec, "origin", None) or ""
    stdlib = sysconfig.get_paths()["stdlib"]
    return bool(origin) and origin.startswith(stdlib) and "site-packages" not in origin


class HeavyImportInDeployerModule(ProjectRule):
    """## What it does
    Follows the modules registered in ``DEPLOYER_IMPL_PROVIDERS_DESC`` and
    ``FLOW_DECORATORS_DESC``, their registration module, and the project modules they import at
    module level (transitively), and flags module-level imports of anything but the standard
    library and Metaflow. Imports inside functions, under ``if TYPE_CHECKING:`` or in a ``try``
    that handles ``ImportError`` are fine.

    ## Why is this bad?
    Metaflow resolves these plugins eagerly at ``import metaflow``, in every process that has
    the extension installed — flows that never use the orchestrator and every remote task
    included. If the package is missing, every ``import metaflow`` fails with ``ValueError:
    Cannot locate deployer_impl_provider plugin`` (pitfall O5).

    ## Example
    ```python
    # my_orch/deployer.py
    from .client import EngineClient     # client.py does `import requests`
    ```

    ## Use instead
    ```python
    # my_orch/deployer.py
    def _client():
        from .client import EngineClient  # imported when used
        return EngineClient()
    ```

    ## Known problems
    Package ``__init__`` modules on the way to an imported module are not followed.
    """

    code = "MFX004"
    name = "heavy-import-in-deployer-module"
    message = ""
    pitfalls = ("O5",)

    VALID = [
        Valid(
            {
                _REG_PATH: _REG,
                _DEP_PATH: (
                    "import json\nfrom typing import TYPE_CHECKING\nfrom metaflow.runner.deployer_impl import DeployerImpl\n"
                    "from .client import helper\n"
                    "if TYPE_CHECKING:\n    import requests\n"
                    "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n\n"
                    "class MyOrchDeployer(DeployerImpl):\n    TYPE = 'my-orch'\n"
                    "    def create(self, **kw):\n        import requests\n"
                ),
                _CLIENT_PATH: "import os\n\ndef helper():\n    import requests\n",
            }
        )
    ]
    INVALID = [
        Invalid(
            {
                _REG_PATH: _REG,
                _DEP_PATH: (
                    "from metaflow.runner.deployer_impl import DeployerImpl\nfrom . import client\n"
                    "import metaflow_orchestrator_kit\n\n"
                    "class MyOrchDeployer(DeployerImpl):\n    TYPE = 'my-orch'\n"
                ),
                _CLIENT_PATH: "import requests\n",
            },
            count=2,
            note="directly, and through a project module",
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        seen: set[str] = set()
        queue: list[tuple[FileContext, str]] = []
        for desc in _EAGER:
            for entry in all_desc_entries(project, desc):
                target = resolve_target(project, entry)
                if target is not None:
                    queue.append((target, f"{entry.key!r} ({desc})"))
                queue.append((entry.file, f"the registration module of {entry.key!r}"))
        while queue:
            file, why = queue.pop(0)
            if file.path in seen or file.is_test:
                continue
            seen.add(file.path)
            for node, name in module_level_imports(file.module):
                local = self._resolve(project, file, node, name)
                if local is not None:
                    queue.append((local, why))
                    continue
                root = name.lstrip(".").split(".")[0]
                if name.startswith(".") or not root:
                    continue  # a relative module outside the project: cannot tell
                if root in _LIGHT_ROOTS or root == "metaflow_extensions" or is_stdlib(root):
                    continue
                yield Report(
                    node,
                    f"`{root}` is imported at module level in a module Metaflow loads at "
                    f"`import metaflow` for {why}: without it installed every Metaflow import "
                    "fails; import it inside the function that needs it",
                    path=file.path,
                )

    @staticmethod
    def _resolve(project: ProjectContext, file: FileContext, node: cst.CSTNode, name: str) -> FileContext | None:
        if name.startswith("."):
            level = len(name) - len(name.lstrip("."))
            parts = file.package_name.split(".") if file.package_name else []
            if level > 1:
                parts = parts[: len(parts) - (level - 1)]
            base = ".".join(parts)
            rest = name.lstrip(".")
            candidates = []
            if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    sub = dotted(alias.name)
                    candidates.append(".".join(p for p in (base, rest, sub) if p))
            candidates.append(".".join(p for p in (base, rest) if p))
            for c in candidates:
                found = project.by_module.get(c)
                if found is not None:
                    return found
            return None
        return project.by_module.get(name) if name.startswith("metaflow_extensions.") else None


def module_level_imports(module: cst.Module) -> Iterator[tuple[cst.CSTNode, str]]:
    """(import node, dotted module) executed when the module is imported."""

    def walk(body: Iterable[cst.CSTNode]) -> Iterator[tuple[cst.CSTNode, str]]:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Import):
                        for alias in small.names:
                            yield small, dotted(alias.name) or ""
                    elif isinstance(small, cst.ImportFrom):
                        mod = dotted(small.module) if small.module is not None else ""
                        yield small, "." * len(small.relative) + (mod or "")
            elif isinstance(stmt, cst.If):
                test = dotted(stmt.test) or ""
                if test.split(".")[-1] == "TYPE_CHECKING":
                    continue
                yield from walk(stmt.body.body)
                orelse = stmt.orelse
                while orelse is not None:
                    if isinstance(orelse, cst.Else):
                        yield from walk(orelse.body.body)
                        break
                    yield from walk(orelse.body.body)
                    orelse = orelse.orelse
            elif isinstance(stmt, cst.Try):
                handled = any(
                    h.type is None
                    or any(
                        (dotted(t) or "").split(".")[-1] in ("ImportError", "ModuleNotFoundError", "Exception")
                        for t in ([h.type] if not isinstance(h.type, cst.Tuple) else [e.value for e in h.type.elements])
                    )
                    for h in stmt.handlers
                )
                if not handled:
                    yield from walk(stmt.body.body)
            elif isinstance(stmt, cst.With):
                yield from walk(stmt.body.body)

    yield from walk(module.body)
