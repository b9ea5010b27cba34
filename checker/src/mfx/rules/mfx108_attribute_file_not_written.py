"""MFX108: ``create``/``trigger`` can exit without writing the deployer attribute file."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import orchestrator_commands, parameter_names
from mfx.analysis.orchestrator_names import SCOPES, dotted, walk
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_PARAM = "deployer_attribute_file"


class AttributeFileNotWritten(Rule):
    """## What it does
    In the ``create`` and ``trigger`` commands of an orchestrator CLI, flags:

    * a command that never passes ``deployer_attribute_file`` to any call (``open(...)``, a
      helper that writes it …);
    * a ``return`` that comes before every such write;
    * a command without a ``deployer_attribute_file`` parameter (``--deployer-attribute-file``).

    ## Why is this bad?
    The Deployer API waits on that file (a named pipe) for the JSON payload. A CLI that exits 0
    without writing it makes ``create()``/``trigger()`` block for ``file_read_timeout`` (one hour
    by default) and then fail with a ``TimeoutError`` (pitfall O1).

    ## Example
    ```python
    def create(obj, only_json=False, deployer_attribute_file=None):
        if only_json:
            obj.echo_always(compile_flow(obj))
            return
        deploy(obj)
        write_attributes(obj, deployer_attribute_file)
    ```

    ## Use instead
    ```python
    def create(obj, only_json=False, deployer_attribute_file=None):
        write_attributes(obj, deployer_attribute_file)
        if only_json:
            obj.echo_always(compile_flow(obj))
            return
        deploy(obj)
    ```

    ## Known problems
    Statement order stands in for control flow: a write anywhere before a ``return`` counts,
    even in another branch.
    """

    code = "MFX108"
    # Applicability pre-check (mfx.applicability), sound because it reports only on commands of an
    # orchestrator CLI, whose root group is `@<click>.group()` with `<click>` resolving to `click`
    # or `metaflow._vendor.click`: the identifier `click` is written in the file
    TRIGGERS = ("click",)
    name = "attribute-file-not-written"
    message = (
        "`{cmd}` can exit without writing `deployer_attribute_file`: the Deployer API then waits "
        "for file_read_timeout (1 h); write the JSON payload on every successful path"
    )
    pitfalls = ("O1",)

    _HEAD = """
import json
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group()
def toy():
    pass

@toy.command()
@click.option("--deployer-attribute-file", default=None, hidden=True)
def trigger(deployer_attribute_file=None, **kwargs):
    _write_deployer_attributes(None, deployer_attribute_file)

@toy.command()
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.option("--only-json", is_flag=True, default=False)
@click.pass_obj
"""
    VALID = [
        Valid(
            _HEAD
            + """
def create(obj, only_json=False, deployer_attribute_file=None):
    if deployer_attribute_file:
        with open(deployer_attribute_file, "w") as f:
            json.dump({"name": "x", "flow_name": obj.flow.name, "metadata": "m"}, f)
    if only_json:
        return
    deploy(obj)
"""
        ),
        Valid(
            _HEAD
            + """
def create(obj, only_json=False, deployer_attribute_file=None):
    if not deployer_attribute_file:
        return
    _write_deployer_attributes(obj, deployer_attribute_file)
""",
            note="a helper that receives the path writes it",
        ),
    ]
    INVALID = [
        Invalid(
            _HEAD
            + """
def create(obj, only_json=False, deployer_attribute_file=None):
    if only_json:
        obj.echo_always("{}")
        return
    _write_deployer_attributes(obj, deployer_attribute_file)
""",
            count=1,
        ),
        Invalid(
            _HEAD
            + """
def create(obj, only_json=False, deployer_attribute_file=None):
    # open(deployer_attribute_file, "w")  -- never actually done
    deploy(obj)
""",
            count=1,
        ),
        Invalid(
            _HEAD
            + """
def create(obj, only_json=False):
    deploy(obj)
""",
            count=1,
            note="the option is missing",
        ),
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        for _, cmd in orchestrator_commands(file.module):
            if cmd.name not in ("create", "trigger"):
                continue
            func = cmd.func
            params = parameter_names(func)
            if _PARAM not in params:
                if not isinstance(func.params.star_kwarg, cst.Param):
                    yield self.report(
                        func.name,
                        f"`{cmd.name}` has no `--deployer-attribute-file` option: the Deployer API "
                        "always passes it and reads the JSON payload from it",
                    )
                continue
            order = self._ordered(func.body)
            writes = [i for i, n in enumerate(order) if self._is_write(n)]
            if not writes:
                yield self.report(func.name, self.message.format(cmd=cmd.name))
                continue
            for i, n in enumerate(order):
                if isinstance(n, cst.Return) and i < writes[0] and not self._guarded(n, func):
                    yield self.report(n, self.message.format(cmd=cmd.name))

    @staticmethod
    def _ordered(body: cst.CSTNode) -> list[cst.CSTNode]:
        """Document-order walk that skips nested functions and classes."""
        return walk(body, SCOPES)

    @staticmethod
    def _is_write(n: cst.CSTNode) -> bool:
        return isinstance(n, cst.Call) and any(
            isinstance(a.value, cst.Name) and a.value.value == _PARAM for a in n.args
        )

    def _guarded(self, ret: cst.Return, func: cst.FunctionDef) -> bool:
        """The return sits under an ``if`` that tests ``deployer_attribute_file`` itself."""
        for n in self._ordered(func.body):
            if isinstance(n, cst.If) and ret in self._ordered(n.body):
                names = {dotted(x) for x in self._ordered(n.test) if isinstance(x, cst.Name)}
                if _PARAM in names:
                    return True
        return False
