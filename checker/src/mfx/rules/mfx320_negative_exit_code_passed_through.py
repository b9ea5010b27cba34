"""MFX320: a process exit code is passed to ``sys.exit`` without handling death by signal (B26)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import dotted_of_node
from mfx.applicability import all_of
from mfx.rule import Invalid, Valid

EXIT_ATTRS = frozenset({"returncode", "exit_code", "exitcode", "exit_status"})


def _is_exit_attr(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value in EXIT_ATTRS


class NegativeExitCodePassedThrough(BackendFileRule):
    """## What it does
    In a module that uses Metaflow, flags ``sys.exit(code)`` where ``code`` is a process's
    ``returncode``/``exit_code`` (directly or through a local variable of the same function) and
    the function never checks it for a negative value or maps it to ``128 + signal``.

    ## Why is this bad?
    A negative return code means the process died from a signal (``-9`` after an OOM kill).
    ``sys.exit(-9)`` exits with 247 and ``sys.exit(-1)`` with 255, so the signal is lost and,
    depending on the platform, a killed task can even look successful (pitfall B26;
    metaflow-sandbox).

    ## Example
    ```python
    exit_code = result.exit_code
    if exit_code != 0:
        sys.exit(exit_code)
    ```

    ## Use instead
    ```python
    exit_code = result.exit_code
    if exit_code < 0:
        exit_code = 128 - exit_code   # 128 + signal number
    if exit_code != 0:
        sys.exit(exit_code)
    ```
    """

    code = "MFX320"
    # Applicability pre-check (mfx.applicability), sound because it reports `sys.exit(code)` where
    # the code is an attribute in EXIT_ATTRS (directly or through a local assigned from one): the
    # identifier `exit` and the attribute's are written in the file
    TRIGGERS = all_of(("exit",), tuple(sorted(EXIT_ATTRS)))
    name = "negative-exit-code-passed-through"
    message = (
        "a negative exit code (death by signal) is passed straight to sys.exit, which turns -9 into "
        "247 and -1 into 255: map `code < 0` to `128 - code` first"
    )
    pitfalls = ("B26",)
    applies_to_core = True

    VALID = [
        Valid(
            """
import sys
from metaflow.exception import METAFLOW_EXIT_DISALLOW_RETRY

def finish(result):
    code = result.exit_code
    if code < 0:
        code = 128 - code
    if code:
        sys.exit(code)

def finish2(proc):
    sys.exit(128 + abs(proc.returncode) if proc.returncode < 0 else proc.returncode)
"""
        ),
        Valid(
            """
import subprocess, sys

def main():
    sys.exit(subprocess.run(["make"]).returncode)
""",
            note="not Metaflow code",
        ),
    ]
    INVALID = [
        Invalid(
            """
import sys
from metaflow import util

def wait(self):
    exit_code = self._result.exit_code
    self.cleanup()
    if exit_code != 0:
        sys.exit(exit_code)

def wait2(proc):
    proc.wait()
    sys.exit(proc.returncode)
""",
            count=2,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        if not any(full.split(".")[0] in ("metaflow", "metaflow_extensions") for full in model.imports.names.values()):
            return  # a trampoline or executor of a backend imports Metaflow
        for func in find_nodes(module, cst.FunctionDef):
            tainted: set[str] = set()
            for a in find_nodes(func.body, cst.Assign):
                if _is_exit_attr(a.value):
                    for t in a.targets:
                        if isinstance(t.target, cst.Name):
                            tainted.add(t.target.value)
            for call in find_nodes(func.body, cst.Call):
                if model.imports.resolve(call.func) != "sys.exit" or not call.args:
                    continue
                arg = call.args[0].value
                key = None
                if isinstance(arg, cst.Name) and arg.value in tainted:
                    key = arg.value
                elif _is_exit_attr(arg):
                    key = dotted_of_node(arg)
                if key is None or self._handles_negative(func, key):
                    continue
                self.report(call)

    @staticmethod
    def _handles_negative(func: cst.FunctionDef, key: str) -> bool:
        for cmp in find_nodes(func.body, cst.Comparison):
            if dotted_of_node(cmp.left) == key and any(
                isinstance(c.operator, (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual))
                for c in cmp.comparisons
            ):
                return True
        for op in find_nodes(func.body, cst.BinaryOperation):
            if any(isinstance(side, cst.Integer) and side.value == "128" for side in (op.left, op.right)):
                return True
        return False
