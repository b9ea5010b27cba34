"""MFX022: a backend's registered CLI object does not hold exactly one sub-group named like the
registration key (pitfall B2)."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.backend_project import backend_clis
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_REG = """
CLIS_DESC = [("mybk", ".mybk_cli.cli")]
STEP_DECORATORS_DESC = [("mybk", ".mybk_decorator.MyBkDecorator")]
"""


class BackendCliShape(ProjectRule):
    """## What it does
    For every CLI registered in ``CLIS_DESC``/``TRAMPOLINE_CLIS_DESC`` whose group holds a
    trampoline ``step`` command, checks that the registered root ``click.group`` holds exactly
    one sub-group, that ``step`` lives in that sub-group, and that the sub-group's click name
    equals the registration key.

    ## Why is this bad?
    Metaflow takes the plugin name from ``list(cli.commands)[0]`` and requires it to equal the
    registered name. A root group that holds ``step`` directly fails every task with
    ``ValueError: ... for cli plugin expected to be named 'mybk' but got 'step'``; a second
    command under the root is silently ignored; a group function ``my_bk`` is named ``my-bk`` by
    click, which does not match ``my_bk`` (pitfall B2).

    ## Example
    ```python
    @click.group()
    def cli():
        pass

    @cli.command()
    def step():
        ...
    ```

    ## Use instead
    ```python
    @click.group()
    def cli():
        pass

    @cli.group(name="mybk")
    def mybk():
        pass

    @mybk.command()
    def step():
        ...
    ```

    ## Known problems
    Only CLIs whose registration file and CLI module are both in the linted set are checked.
    """

    code = "MFX022"
    name = "backend-cli-shape"
    message = "backend CLI shape is wrong"
    pitfalls = ("B2",)
    applies_to_core = True

    VALID = [
        Valid(
            {
                "ext/plugins/mfextinit_x.py": _REG,
                "ext/plugins/mybk_cli.py": """
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(help="My backend")
def mybk():
    pass

@mybk.command()
@click.argument("step-name")
def step(step_name):
    pass
""",
            }
        ),
        Valid(
            {
                "ext/plugins/mfextinit_x.py": 'CLIS_DESC = [("my_bk", ".cli.cli")]\n',
                "ext/plugins/cli.py": """
import click

@click.group()
def cli():
    pass

@cli.group(name="my_bk")
def my_bk():
    pass

@my_bk.command()
def step():
    pass
""",
            },
            note="explicit name= keeps the underscore",
        ),
        Valid(
            {
                "ext/plugins/mfextinit_x.py": 'CLIS_DESC = [("my-scheduler", ".cli.cli")]\n',
                "ext/plugins/cli.py": """
import click

@click.group()
def cli():
    pass

@cli.group(name="my-scheduler")
def sched():
    pass

@sched.command()
def create():
    pass
""",
            },
            note="an orchestrator CLI (no step command) is not a backend CLI",
        ),
    ]
    INVALID = [
        Invalid(
            {
                "ext/plugins/mfextinit_x.py": _REG,
                "ext/plugins/mybk_cli.py": """
import click

@click.group()
def cli():
    pass

@cli.command()
@click.argument("step-name")
def step(step_name):
    pass
""",
            },
            count=1,
            note="the kit scaffold: step directly under the root group",
        ),
        Invalid(
            {
                "ext/plugins/mfextinit_x.py": 'CLIS_DESC = [("my_bk", ".cli.cli")]\n',
                "ext/plugins/cli.py": """
import click

@click.group()
def cli():
    pass

@cli.group()
def my_bk():
    pass

@my_bk.command()
def step():
    pass
""",
            },
            count=1,
            note="click names the group my-bk",
        ),
        Invalid(
            {
                "ext/plugins/mfextinit_x.py": _REG,
                "ext/plugins/mybk_cli.py": """
import click

@click.group()
def cli():
    pass

@cli.group()
def mybk():
    pass

@mybk.command()
def step():
    pass

@cli.command()
def status():
    pass
""",
            },
            count=1,
            note="a second command under the root",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for cli in backend_clis(project):
            if cli.registration is None or cli.root is None:
                continue
            key = cli.registration.entry.key
            root_name = cli.root.func.name.value
            children = cli.model.children(root_name)
            added = [c for parent, c in cli.model.add_commands if parent == root_name]
            if cli.group is None:
                node = cli.step.decorator if cli.step is not None else cli.root.decorator
                yield Report(
                    node=node,
                    path=cli.file.path,
                    message=(
                        f"`step` must live in a sub-group named {key!r} of the registered root group "
                        f"`{root_name}`: Metaflow takes the plugin name from the root's only command; "
                        f"add `@{root_name}.group(name={key!r})` and move `step` under it"
                    ),
                )
                continue
            if cli.group.name != key:
                yield Report(
                    node=cli.group.decorator,
                    path=cli.file.path,
                    message=(
                        f"click names this group {cli.group.name!r} but it is registered as {key!r}; "
                        f"Metaflow requires them to match: pass `name={key!r}` to the group decorator"
                    ),
                )
            if len(children) + len(added) > 1:
                extra = [c for c in children if c is not cli.group]
                node = extra[0].decorator if extra else added[0][1]
                yield Report(
                    node=node,
                    path=cli.file.path,
                    message=(
                        f"the registered root group `{root_name}` must hold exactly one command, the "
                        f"sub-group {key!r}: Metaflow only reads the first one; move this command "
                        f"under `{cli.group.func.name.value}`"
                    ),
                )
