"""MFX405: a shell command is built from caller-controlled strings without ``shlex.quote``."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from mfx.analysis.backend_base import find_nodes
from mfx.analysis.backend_model import backend_model, function_params
from mfx.analysis.backend_names import ImportMap, call_name, keyword, walk
from mfx.analysis.security_taint import TaintAnalysis, collect_flow_nodes
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_QUOTERS = ("shlex.quote", "shlex.join", "pipes.quote", "quote")
_NUMERIC = ("int", "float", "len", "abs", "round", "bool")


class _ParamTaint(TaintAnalysis):
    """Taint from the function's parameters, ``sys.argv`` and ``self.attributes``; quoting stops it."""

    def __init__(self, imports: ImportMap, params: set[str]) -> None:
        super().__init__(imports, lambda a, e: None)
        self.tainted = {p: p for p in params}

    def label(self, expr: cst.CSTNode | None) -> str | None:
        if isinstance(expr, cst.Call):
            full = self.imports.resolve(expr.func) or ""
            if full in _QUOTERS or full.endswith(".quote") or call_name(expr) in _NUMERIC:
                return None
        if isinstance(expr, (cst.Name, cst.Attribute)) and self.imports.resolve(expr) == "sys.argv":
            return "sys.argv"
        if isinstance(expr, cst.Attribute) and expr.attr.value == "attributes" and isinstance(expr.value, cst.Name) and expr.value.value == "self":
            return "self.attributes"
        if isinstance(expr, cst.Call):
            # string building keeps taint; other calls do not (see security_taint)
            name = call_name(expr)
            if name in ("format", "join", "str", "replace", "strip", "lower", "upper", "get", "format_map"):
                parts = [a.value for a in expr.args]
                if isinstance(expr.func, cst.Attribute):
                    parts.insert(0, expr.func.value)
                for p in parts:
                    lab = self.label(p)
                    if lab:
                        return lab
            return None
        return super().label(expr)


def _interpolated(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The non-literal parts a command string is built from."""
    if isinstance(expr, cst.FormattedString):
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringExpression):
                yield part.expression
    elif isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Modulo):
        right = expr.right
        if isinstance(right, (cst.Tuple, cst.List)):
            for el in right.elements:
                yield el.value
        elif isinstance(right, cst.Dict):
            for el in right.elements:
                if isinstance(el, cst.DictElement):
                    yield el.value
        else:
            yield right
    elif isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        for side in (expr.left, expr.right):
            if isinstance(side, (cst.BinaryOperation, cst.FormattedString)):
                yield from _interpolated(side)
            elif not isinstance(side, (cst.SimpleString, cst.ConcatenatedString)):
                yield side
    elif isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        if expr.func.attr.value == "format":
            for a in expr.args:
                yield a.value
        elif expr.func.attr.value == "join" and expr.args:
            seq = expr.args[0].value
            if isinstance(seq, (cst.List, cst.Tuple)):
                for el in seq.elements:
                    yield el.value
            else:
                yield seq


class ShellCommandInjection(Rule):
    """## What it does
    Flags ``subprocess.*(cmd, shell=True)``, ``os.system(cmd)`` and ``os.popen(cmd)`` where
    ``cmd`` is built inside the function (f-string, ``%``, ``+``, ``.format``, ``" ".join``) from a
    value that comes from the function's parameters, ``sys.argv`` or the decorator's
    ``self.attributes``, and that value is not passed through ``shlex.quote``.

    ## Why is this bad?
    In an extension these values are flow names, step names, parameters, decorator attributes
    and image names: they come from users. Interpolated unquoted into a shell command, a value
    like ``x; rm -rf ~`` runs as a command on the launcher or the worker, and even benign values
    with spaces or quotes break the task.

    ## Example
    ```python
    def submit(image, script):
        subprocess.run(f"docker run {image} bash -c '{script}'", shell=True, check=True)
    ```

    ## Use instead
    ```python
    def submit(image, script):
        subprocess.run(["docker", "run", image, "bash", "-c", script], check=True)
        # or: f"docker run {shlex.quote(image)} bash -c {shlex.quote(script)}"
    ```

    ## Known problems
    Only flows inside one function are followed; a command built by a helper and run elsewhere
    is not seen.
    """

    code = "MFX405"
    name = "shell-command-injection"
    message = "shell command built from unquoted caller-controlled strings"
    applies_to_core = True

    VALID = [
        Valid(
            """
import shlex, subprocess, os

def run(image, script, n):
    subprocess.run(f"docker run {shlex.quote(image)} bash -c {shlex.quote(script)}", shell=True, check=True)
    subprocess.run(["docker", "run", image, script], check=True)
    os.system("sleep %d" % int(n))
    cmd = "echo " + shlex.quote(script)
    subprocess.check_call(cmd, shell=True)

def wrapper(cmd):
    return subprocess.run(cmd, shell=True, check=True)
""",
            note="quoted values, argv lists, numbers, and a wrapper that runs a whole command",
        ),
    ]
    INVALID = [
        Invalid(
            """
import os, subprocess

def submit(image, script):
    subprocess.run(f"docker run {image} bash -c '{script}'", shell=True, check=True)

def cancel(job_id):
    cmd = "scancel " + job_id
    os.system(cmd)

class Deco:
    def launch(self):
        subprocess.Popen("sbatch --partition=%s job.sh" % self.attributes["partition"], shell=True)
""",
            count=3,
        ),
    ]

    #: Applicability pre-check (see :mod:`mfx.applicability`), sound because a finding needs a shell sink,
    #: recognised only by resolved names ``os.system``, ``os.popen``, ``subprocess.*`` or
    #: ``asyncio.create_subprocess_shell``; each needs one of these identifiers in the file (or
    #: in its package name, for relative imports).
    TRIGGERS = ("system", "popen", "subprocess")

    def check(self, file: FileContext) -> Iterator[Report]:
        if file.is_test:
            return
        imports = backend_model(file).imports
        for func in find_nodes(file.module, cst.FunctionDef):
            commands = [(call, cmd) for call in _own_calls(func) if (cmd := self._shell_command(imports, call)) is not None]
            if not commands:
                continue  # no shell command in this function: nothing to trace
            params = set(function_params(func)) - {"self", "cls"}
            if func.params.star_arg is not None and isinstance(func.params.star_arg, cst.Param):
                params.add(func.params.star_arg.name.value)
            analysis = _ParamTaint(imports, params)
            analysis.run(func)
            builders = self._builders(func)
            for call, cmd in commands:
                exprs: list[cst.BaseExpression] = [cmd]
                if isinstance(cmd, cst.Name):
                    exprs = builders.get(cmd.value, [])
                for e in exprs:
                    culprit = next((p for p in _interpolated(e) if analysis.label(p)), None)
                    if culprit is not None:
                        yield self.report(
                            call,
                            f"shell command built from `{analysis.label(culprit)}` without shlex.quote: a value "
                            "with `;`, spaces or quotes runs or breaks commands; pass an argv list without "
                            "shell=True, or wrap it in shlex.quote()",
                        )
                        break

    @staticmethod
    def _builders(func: cst.FunctionDef):
        out = {}
        for node in collect_flow_nodes(func):
            if isinstance(node, cst.Assign):
                for t in node.targets:
                    if isinstance(t.target, cst.Name):
                        out.setdefault(t.target.value, []).append(node.value)
            elif isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
                out.setdefault(node.target.value, []).append(
                    cst.BinaryOperation(left=cst.SimpleString('""'), operator=cst.Add(), right=node.value)
                )
        return out

    @staticmethod
    def _shell_command(imports: ImportMap, call: cst.Call) -> cst.BaseExpression | None:
        full = imports.resolve(call.func) or ""
        pos = [a.value for a in call.args if a.keyword is None]
        if full in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput") and pos:
            return pos[0]
        if full.startswith("subprocess.") or full == "asyncio.create_subprocess_shell":
            shell = keyword(call, "shell")
            if full == "asyncio.create_subprocess_shell" or (
                shell is not None and isinstance(shell.value, cst.Name) and shell.value.value == "True"
            ):
                if pos:
                    return pos[0]
                kw = keyword(call, "args")
                return kw.value if kw is not None else None
        return None


def _own_calls(func: cst.FunctionDef) -> list[cst.Call]:
    """Calls of ``func`` itself, not of functions or classes nested in it."""
    return [n for n in walk(func, _NESTED) if type(n) is cst.Call]


#: FunctionDef and ClassDef are concrete (never subclassed): exact type tests, no ABC checks.
_NESTED = frozenset({cst.FunctionDef, cst.ClassDef})
