"""MFX001: the CLI registered in ``CLIS_DESC`` cannot be loaded as an orchestrator CLI."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.orchestrator_cli import VENDORED_CLICK, add_command_calls, click_nodes
from mfx.analysis.orchestrator_registration import (
    all_desc_entries,
    find_definition,
    resolve_target,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_REG = 'CLIS_DESC = [("my-orch", ".my_orch.cli.cli")]\n'
_REG_PATH = "metaflow_extensions/my_orch/plugins/mfextinit_my_orch.py"
_CLI_PATH = "metaflow_extensions/my_orch/plugins/my_orch/cli.py"


class OrchestratorCliNotRegistrable(ProjectRule):
    """## What it does
    For every CLI registered in ``CLIS_DESC`` (that is not a compute backend's ``step``
    trampoline, see MFX022), checks that the registered object is a root
    ``@click.group()`` built with Metaflow's vendored click (``from metaflow._vendor import
    click``) holding exactly one sub-command.

    ## Why is this bad?
    Metaflow names a CLI plugin after ``list(cli.commands)[0]`` — or ``"too many commands"`` —
    and requires a ``metaflow._vendor.click.Group``. Anything else fails when the CLI is loaded:
    ``expected to be named 'x' but got 'too many commands'`` or ``Lazy loading of x failed by
    returning a non-group object``; since ``--help`` loads every CLI, it breaks ``python flow.py
    --help`` for every flow (pitfall O3).

    ## Example
    ```python
    import click

    @click.group()
    def cli():
        pass

    @cli.command()
    def create(): ...

    @cli.command()
    def trigger(): ...
    ```

    ## Use instead
    ```python
    from metaflow._vendor import click

    @click.group()
    def cli():
        pass

    @cli.group(name="my-orch")
    def my_orch(): ...

    @my_orch.command()
    def create(): ...
    ```
    """

    code = "MFX001"
    name = "orchestrator-cli-not-registrable"
    message = "registered CLI cannot be loaded by Metaflow"
    pitfalls = ("O3",)

    _GOOD = """
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(name="my-orch")
def my_orch():
    pass

@my_orch.command()
def create():
    pass
"""
    VALID = [Valid({_REG_PATH: _REG, _CLI_PATH: _GOOD})]
    INVALID = [
        Invalid(
            {
                _REG_PATH: _REG,
                _CLI_PATH: """
import click  # the pip click, not metaflow._vendor.click

@click.group()
def cli():
    pass

@cli.command()
def create():
    pass

@cli.command()
def trigger():
    pass
""",
            },
            count=2,
        ),
        Invalid(
            {
                _REG_PATH: _REG,
                _CLI_PATH: "from metaflow._vendor import click\n\ndef cli():\n    pass\n",
            },
            count=1,
            note="not a group at all",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for entry in all_desc_entries(project, "CLIS_DESC"):
            target = resolve_target(project, entry)
            if target is None:
                continue
            definition = find_definition(target, entry.attr)
            if not isinstance(definition, cst.FunctionDef):
                continue
            nodes = click_nodes(target.module)
            if any(n.name == "step" for n in nodes):
                continue  # a compute backend's trampoline CLI: MFX022 checks it
            root = next((n for n in nodes if n.func is definition), None)
            if root is None or root.parent is not None or root.kind != "group":
                yield Report(
                    definition.name,
                    f"`{entry.attr}` is registered in CLIS_DESC but is not a root `@click.group()`: "
                    "Metaflow needs a group holding one sub-group named like the key",
                    path=target.path,
                )
                continue
            if root.click_module != VENDORED_CLICK:
                yield Report(
                    root.decorator,
                    "the CLI group is built with the pip `click`: Metaflow only accepts groups of its "
                    "vendored click; use `from metaflow._vendor import click`",
                    path=target.path,
                )
            children = [n for n in nodes if n.parent == entry.attr]
            count = len(children) + len(add_command_calls(target.module, entry.attr))
            if count != 1:
                yield Report(
                    definition.name,
                    f"`{entry.attr}` holds {count} sub-commands: Metaflow names the plugin after the "
                    f"only one; put the commands in one sub-group named {entry.key!r}",
                    path=target.path,
                )
