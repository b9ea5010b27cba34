"""MFX102: the orchestrator's ``trigger`` command does not accept the flow's parameters."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import commands_named
from mfx.analysis.orchestrator_names import dotted, import_map, qualify
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_DECORATOR = "metaflow.parameters.add_custom_parameters"


class TriggerWithoutCustomParameters(Rule):
    """## What it does
    Flags the ``trigger`` command of an orchestrator CLI (a sub-group of a root
    ``@click.group()`` that holds both ``create`` and ``trigger``) that is not decorated with
    ``@parameters.add_custom_parameters(deploy_mode=False)``.

    ## Why is this bad?
    ``DeployedFlow.trigger(alpha=1)`` calls the CLI through Metaflow's click API, which only
    accepts the flow's parameters when the command carries that decorator (it sets
    ``has_flow_params`` and adds one ``--<param>`` option per Parameter). Without it every
    trigger with parameters fails with ``ValueError: Unknown argument: 'alpha'``, and tunnelling
    parameters through a ``--run-param k=v`` option does not help (pitfall O7).

    ## Example
    ```python
    @my_orch.command(help="Trigger the flow.")
    @click.option("--deployer-attribute-file", default=None, hidden=True)
    @click.pass_obj
    def trigger(obj, deployer_attribute_file=None, run_param=()):
        ...
    ```

    ## Use instead
    ```python
    @parameters.add_custom_parameters(deploy_mode=False)
    @my_orch.command(help="Trigger the flow.")
    @click.option("--deployer-attribute-file", default=None, hidden=True)
    @click.pass_obj
    def trigger(obj, deployer_attribute_file=None, **kwargs):
        ...
    ```
    """

    code = "MFX102"
    # Applicability pre-check (mfx.applicability), sound because it reports only on commands of an
    # orchestrator CLI, whose root group is `@<click>.group()` with `<click>` resolving to `click`
    # or `metaflow._vendor.click`: the identifier `click` is written in the file
    TRIGGERS = ("click",)
    name = "trigger-without-custom-parameters"
    message = (
        "the `trigger` command does not accept flow parameters: decorate it with "
        "`@parameters.add_custom_parameters(deploy_mode=False)` (from metaflow import parameters) "
        "and read them from `**kwargs`"
    )
    pitfalls = ("O7",)

    VALID = [
        Valid(
            """
from metaflow import parameters
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(help="My orchestrator.")
@click.pass_obj
def my_orch(obj):
    pass

@my_orch.command()
def create():
    pass

@parameters.add_custom_parameters(deploy_mode=False)
@my_orch.command(help="Trigger.")
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_obj
def trigger(obj, deployer_attribute_file=None, **kwargs):
    pass
"""
        ),
        Valid(
            """
from metaflow.parameters import add_custom_parameters as acp
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(name="my_orch")
def grp():
    pass

@grp.command()
def create():
    pass

@acp()
@grp.command()
def trigger(**kwargs):
    pass
""",
            note="imported under another name, default deploy_mode",
        ),
        Valid(
            """
import click

@click.group()
def main():
    pass

@main.command()
def trigger():
    '''A trigger command of an unrelated two-level click program.'''
""",
            note="not an orchestrator sub-group",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(help="Toy.")
def toy():
    pass

@toy.command()
def create():
    pass

# @parameters.add_custom_parameters(deploy_mode=False)  <- a comment is not a decorator
@toy.command(help="Trigger.")
@click.option("--run-param", multiple=True)
@click.pass_obj
def trigger(obj, run_param=None):
    pass
""",
            count=1,
        ),
        Invalid(
            """
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

@toy.command(name="trigger")
def do_trigger():
    pass
""",
            count=1,
            note="command named through name=",
        ),
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        imports = import_map(file.module)
        for func in commands_named(file.module, "trigger"):
            if not any(self._is_custom_parameters(d, imports) for d in func.decorators):
                yield self.report(func.name)

    @staticmethod
    def _is_custom_parameters(deco: cst.Decorator, imports: dict) -> bool:
        expr = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
        q = qualify(expr, imports) or ""
        if q == _DECORATOR or q.endswith(".parameters.add_custom_parameters"):
            return True
        return (dotted(expr) or "").endswith("add_custom_parameters")
