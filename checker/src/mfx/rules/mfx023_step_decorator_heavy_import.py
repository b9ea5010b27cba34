"""MFX023: a step decorator module imports a third-party package at module level (pitfall B21)."""

from __future__ import annotations

import sys

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import dotted_of_node
from mfx.rule import Invalid, Valid

_FALLBACK_STDLIB = frozenset(
    ["__future__", "abc", "argparse", "ast", "asyncio", "atexit", "base64", "binascii", "bisect", "builtins", "bz2", "calendar", "collections", "concurrent", "contextlib", "copy", "csv", "ctypes", "dataclasses", "datetime", "decimal", "difflib", "enum", "errno", "fcntl", "fnmatch", "functools", "gc", "getpass", "glob", "gzip", "hashlib", "heapq", "hmac", "html", "http", "importlib", "inspect", "io", "ipaddress", "itertools", "json", "keyword", "logging", "lzma", "math", "mimetypes", "multiprocessing", "numbers", "operator", "os", "pathlib", "pickle", "pkgutil", "platform", "pprint", "queue", "random", "re", "resource", "select", "selectors", "shlex", "shutil", "signal", "socket", "sqlite3", "ssl", "stat", "string", "struct", "subprocess", "sys", "sysconfig", "tarfile", "tempfile", "textwrap", "threading", "time", "timeit", "traceback", "types", "typing", "unittest", "urllib", "uuid", "warnings", "weakref", "xml", "zipfile", "zlib"]
)
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | _FALLBACK_STDLIB
ALLOWED_ROOTS = ("metaflow", "metaflow_extensions", "typing_extensions")


class StepDecoratorHeavyImport(BackendFileRule):
    """## What it does
    In a module that defines a ``StepDecorator`` subclass, flags module-level imports of
    packages that are neither the standard library nor Metaflow (or ``metaflow_extensions``).
    Imports inside functions, under ``if TYPE_CHECKING:`` or in a ``try`` that handles
    ``ImportError`` are fine.

    ## Why is this bad?
    Metaflow imports every registered step decorator module eagerly, at ``import metaflow``, in
    every process: the launcher, the trampoline, and every remote task, including flows that
    never use the decorator. A missing SDK then breaks every flow in the environment (modal's
    ``import modal`` at the top of ``modal_decorator.py``), and a heavy SDK slows every task
    start (pitfall B21).

    ## Example
    ```python
    import modal
    from metaflow.decorators import StepDecorator

    class ModalDecorator(StepDecorator):
        name = "modal"
    ```

    ## Use instead
    ```python
    from metaflow.decorators import StepDecorator

    class ModalDecorator(StepDecorator):
        name = "modal"

        def runtime_init(self, flow, graph, package, run_id):
            import modal  # only where it is needed
    ```

    ## Known problems
    Relative imports of the extension's own modules are not followed, so a heavy import one
    module away is not seen.
    """

    code = "MFX023"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "step-decorator-heavy-import"
    message = "third-party import at the top of a step decorator module"
    pitfalls = ("B21",)
    applies_to_core = True

    VALID = [
        Valid(
            """
import os
from typing import TYPE_CHECKING
from metaflow.decorators import StepDecorator
from .my_cli_utils import helper

if TYPE_CHECKING:
    import modal

try:
    import yaml
except ImportError:
    yaml = None

class MyDecorator(StepDecorator):
    name = "my"

    def runtime_init(self, flow, graph, package, run_id):
        import modal
"""
        ),
        Valid(
            """
import requests

def helper():
    return requests
""",
            note="not a step decorator module",
        ),
    ]
    INVALID = [
        Invalid(
            """
import modal as modal_sdk
from metaflow.decorators import StepDecorator

class ModalDecorator(StepDecorator):
    name = "modal"
""",
            count=1,
        ),
        Invalid(
            """
from metaflow.decorators import StepDecorator
from sky import Resources
import boto3.session

class SkyDecorator(StepDecorator):
    name = "sky"
""",
            count=2,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        if not model.decorators:
            return
        self._scan(module.body)

    def _scan(self, body) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._check_import(small)
            elif isinstance(stmt, cst.If):
                if self._is_type_checking(stmt.test):
                    continue
                self._scan(stmt.body.body)
                if isinstance(stmt.orelse, cst.Else):
                    self._scan(stmt.orelse.body.body)
            elif isinstance(stmt, cst.Try):
                if any(self._handles_import_error(h) for h in stmt.handlers):
                    continue
                self._scan(stmt.body.body)

    @staticmethod
    def _is_type_checking(test: cst.BaseExpression) -> bool:
        d = dotted_of_node(test)
        return d is not None and d.split(".")[-1] == "TYPE_CHECKING"

    @staticmethod
    def _handles_import_error(handler: cst.ExceptHandler) -> bool:
        if handler.type is None:
            return True
        names = [dotted_of_node(handler.type)]
        if isinstance(handler.type, cst.Tuple):
            names = [dotted_of_node(e.value) for e in handler.type.elements]
        return any(n in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException") for n in names)

    def _check_import(self, node: cst.CSTNode) -> None:
        roots: list = []
        if isinstance(node, cst.Import):
            roots = [(dotted_of_node(a.name) or "", a) for a in node.names]
        elif isinstance(node, cst.ImportFrom) and not node.relative and node.module is not None:
            roots = [(dotted_of_node(node.module) or "", node)]
        for full, where in roots:
            top = full.split(".")[0]
            if self._is_heavy(top):
                self.report(
                    where,
                    f"`{full}` is imported at the top of a step decorator module, which Metaflow "
                    "imports in every process and every flow: import it inside the hook that "
                    "needs it (or under `if TYPE_CHECKING:`)",
                )

    @staticmethod
    def _is_heavy(top: str | None) -> bool:
        return bool(top) and top not in STDLIB and top not in ALLOWED_ROOTS
