"""MFX109: ``trigger`` starts a background process that keeps the Deployer call waiting."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import commands_named
from mfx.analysis.orchestrator_names import (
    dotted,
    import_map,
    keyword,
    qualify,
    walk,
)
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_SESSION_VALUES = {"os.setsid", "os.setpgrp"}


class TriggerBlocksOnChild(Rule):
    """## What it does
    In the ``trigger`` command of an orchestrator CLI, flags a ``subprocess.Popen`` that is left
    running in the background (no ``.wait()``/``.communicate()`` on it in the command) without
    ``start_new_session=True`` and with ``stdout``/``stderr`` not redirected to a file or
    ``DEVNULL``.

    ## Why is this bad?
    ``DeployedFlow.trigger()`` returns only when the CLI process has exited **and** its
    stdout/stderr pipes are closed. A child that inherits those pipes keeps them open, so
    ``trigger()`` blocks for the whole run; without a new session the child also dies with the
    CLI's process group (pitfall O24).

    ## Example
    ```python
    subprocess.Popen([sys.executable, "-m", "my_orch.runner", run_id])
    ```

    ## Use instead
    ```python
    subprocess.Popen(
        [sys.executable, "-m", "my_orch.runner", run_id],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    ```
    """

    code = "MFX109"
    # Applicability pre-check (mfx.applicability), sound because it reports only on commands of an
    # orchestrator CLI, whose root group is `@<click>.group()` with `<click>` resolving to `click`
    # or `metaflow._vendor.click`: the identifier `click` is written in the file
    TRIGGERS = ("click",)
    name = "trigger-blocks-on-child"
    message = (
        "background process started by `trigger` {problem}: `trigger()` then waits for the whole "
        "run; pass start_new_session=True and stdout/stderr to a log file or subprocess.DEVNULL"
    )
    pitfalls = ("O24",)

    _HEAD = """
import subprocess, sys
from metaflow import parameters
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group()
def toy():
    pass

@toy.command()
def create():
    pass

@parameters.add_custom_parameters(deploy_mode=False)
@toy.command()
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_obj
def trigger(obj, deployer_attribute_file=None, **kwargs):
"""
    VALID = [
        Valid(
            _HEAD
            + """
    log = open("run.log", "ab")
    subprocess.Popen([sys.executable, "runner.py"], stdout=log, stderr=subprocess.STDOUT,
                     stdin=subprocess.DEVNULL, start_new_session=True)
    proc = subprocess.Popen(["engine", "start"], stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=30)
"""
        ),
    ]
    INVALID = [
        Invalid(
            _HEAD
            + """
    subprocess.Popen([sys.executable, "runner.py"])
""",
            count=1,
        ),
        Invalid(
            _HEAD
            + """
    from subprocess import Popen, PIPE
    p = Popen([sys.executable, "runner.py"], stdout=PIPE, stderr=PIPE, start_new_session=True)
""",
            count=1,
            note="pipes that nobody reads",
        ),
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        imports = import_map(file.module)
        for func in commands_named(file.module, "trigger"):
            local = dict(imports)
            for n in walk(func.body):  # imports inside the command
                if isinstance(n, cst.ImportFrom) and not isinstance(n.names, cst.ImportStar):
                    mod = dotted(n.module) if n.module is not None else ""
                    for alias in n.names:
                        local[dotted(alias.name) or ""] = f"{mod}.{dotted(alias.name)}"
            waited = self._waited_names(func)
            for call in walk(func.body):
                if not isinstance(call, cst.Call) or qualify(call.func, local) != "subprocess.Popen":
                    continue
                target = self._assigned_name(func, call)
                if target is not None and target in waited:
                    continue
                problems = []
                session = keyword(call, "start_new_session")
                preexec = keyword(call, "preexec_fn")
                if not (
                    (session is not None and dotted(session.value) == "True")
                    or (preexec is not None and qualify(preexec.value, local) in _SESSION_VALUES)
                ):
                    problems.append("has no new session")
                for stream in ("stdout", "stderr"):
                    arg = keyword(call, stream)
                    value = qualify(arg.value, local) if arg is not None else None
                    if arg is None or value in ("subprocess.PIPE", "None"):
                        problems.append(f"inherits or pipes {stream}")
                if problems:
                    yield self.report(call, self.message.format(problem=", ".join(problems)))

    @staticmethod
    def _waited_names(func: cst.FunctionDef) -> set[str]:
        out = set()
        for n in walk(func.body):
            if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
                if n.func.attr.value in ("wait", "communicate") and isinstance(n.func.value, cst.Name):
                    out.add(n.func.value.value)
        return out

    @staticmethod
    def _assigned_name(func: cst.FunctionDef, call: cst.Call) -> str | None:
        for n in walk(func.body):
            if isinstance(n, cst.Assign) and n.value is call:
                for t in n.targets:
                    if isinstance(t.target, cst.Name):
                        return t.target.value
            if isinstance(n, cst.WithItem) and n.item is call and n.asname is not None:
                if isinstance(n.asname.name, cst.Name):
                    return n.asname.name.value
        return None
