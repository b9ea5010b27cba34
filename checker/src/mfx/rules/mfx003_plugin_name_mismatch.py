"""MFX003: Deployer ``TYPE``, registration keys and the CLI group name disagree."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.orchestrator_cli import class_constant, click_nodes
from mfx.analysis.orchestrator_registration import (
    all_desc_entries,
    desc_entries,
    find_definition,
    resolve_target,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_REG_PATH = "metaflow_extensions/my_orch/plugins/mfextinit_my_orch.py"
_DEP_PATH = "metaflow_extensions/my_orch/plugins/my_orch/deployer.py"
_CLI_PATH = "metaflow_extensions/my_orch/plugins/my_orch/cli.py"
_REG = """
CLIS_DESC = [("my-orch", ".my_orch.cli.cli")]
DEPLOYER_IMPL_PROVIDERS_DESC = [("my-orch", ".my_orch.deployer.MyOrchDeployer")]
"""
_CLI = """
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group({name})
def my_orch():
    pass
"""
_DEP = """
from metaflow.runner.deployer_impl import DeployerImpl

class MyOrchDeployer(DeployerImpl):
    TYPE = {type!r}
"""


class PluginNameMismatch(ProjectRule):
    """## What it does
    Compares the names Metaflow matches against each other:

    * a ``DEPLOYER_IMPL_PROVIDERS_DESC`` key and the ``TYPE`` of the class it points to;
    * a ``CLIS_DESC`` key and the click name of the registered group's sub-group (click derives
      ``my-orch`` from a function ``my_orch`` unless ``name=`` is given);
    * a deployer key and the ``CLIS_DESC`` keys of the same registration module.

    ## Why is this bad?
    ``import metaflow`` raises ``ValueError`` when a class's ``TYPE`` differs from its key, and
    the Deployer finds the CLI by ``getattr(api, TYPE)``: ``TYPE = "my_orch"`` with a group
    named ``my-orch`` gives ``AttributeError`` on every ``create()`` (pitfall O4).

    ## Example
    ```python
    DEPLOYER_IMPL_PROVIDERS_DESC = [("my_orch", ".my_orch.deployer.MyOrchDeployer")]
    class MyOrchDeployer(DeployerImpl):
        TYPE = "my_orch"
    @cli.group()
    def my_orch(): ...      # click names it "my-orch"
    ```

    ## Use instead
    ```python
    DEPLOYER_IMPL_PROVIDERS_DESC = [("my-orch", ".my_orch.deployer.MyOrchDeployer")]
    class MyOrchDeployer(DeployerImpl):
        TYPE = "my-orch"
    @cli.group(name="my-orch")
    def my_orch(): ...
    ```
    """

    code = "MFX003"
    name = "plugin-name-mismatch"
    message = "Deployer TYPE, registration key and CLI group name must be identical"
    pitfalls = ("O4",)

    VALID = [
        Valid({_REG_PATH: _REG, _CLI_PATH: _CLI.format(name=""), _DEP_PATH: _DEP.format(type="my-orch")}),
        Valid(
            {
                _REG_PATH: _REG.replace("my-orch", "my_orch"),
                _CLI_PATH: _CLI.format(name='name="my_orch"'),
                _DEP_PATH: _DEP.format(type="my_orch"),
            },
            note="underscored TYPE with an explicit group name",
        ),
    ]
    INVALID = [
        Invalid(
            {
                _REG_PATH: _REG.replace("my-orch", "my_orch"),
                _CLI_PATH: _CLI.format(name=""),
                _DEP_PATH: _DEP.format(type="my_orch"),
            },
            count=1,
            path=_CLI_PATH,
            line=8,
            column=5,
            message="registered as 'my_orch'",
            note="click derives my-orch from the function name",
        ),
        Invalid(
            {
                _REG_PATH: _REG.replace('CLIS_DESC = [("my-orch"', 'CLIS_DESC = [("myorch"'),
                _CLI_PATH: _CLI.format(name='"myorch"'),
                _DEP_PATH: _DEP.format(type="my-orch-x"),
            },
            count=2,
            path=_DEP_PATH,
            line=4,
            column=12,
            message="'my-orch-x'",
            note="TYPE differs from its key; deployer key has no CLI",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for entry in all_desc_entries(project, "DEPLOYER_IMPL_PROVIDERS_DESC"):
            target = resolve_target(project, entry)
            cls = find_definition(target, entry.attr) if target is not None else None
            if isinstance(cls, cst.ClassDef):
                found = class_constant(cls, "TYPE")
                if found is not None and found[1] is not None and found[1] != entry.key:
                    yield Report(
                        found[0],
                        f"TYPE {found[1]!r} differs from its DEPLOYER_IMPL_PROVIDERS_DESC key "
                        f"{entry.key!r}: `import metaflow` fails; make them identical",
                        path=target.path,  # type: ignore[union-attr]
                    )
            cli_keys = {e.key for e in desc_entries(entry.file, "CLIS_DESC")}
            if cli_keys and entry.key not in cli_keys:
                yield Report(
                    entry.key_node,
                    f"deployer {entry.key!r} has no CLIS_DESC entry of the same name "
                    f"(found {sorted(cli_keys)}): the Deployer looks the CLI group up by TYPE",
                    path=entry.file.path,
                )
        for entry in all_desc_entries(project, "CLIS_DESC"):
            target = resolve_target(project, entry)
            if target is None:
                continue
            nodes = click_nodes(target.module)
            if any(n.name == "step" for n in nodes):
                continue  # a compute backend's trampoline CLI: MFX022 checks its name
            children = [n for n in nodes if n.parent == entry.attr]
            if len(children) == 1 and children[0].name != entry.key:
                child = children[0]
                yield Report(
                    child.func.name,
                    f"the CLI group is named {child.name!r} but registered as {entry.key!r}: "
                    f'name it explicitly, `@{entry.attr}.group(name="{entry.key}")`',
                    path=target.path,
                )
