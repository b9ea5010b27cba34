"""MFX306: a compute backend never uses ``environment.bootstrap_commands``/``executable`` (B8)."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.backend_base import file_calls_named
from mfx.analysis.backend_project import (
    cli_for_group,
    compute_decorators,
    same_extension,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_REG = 'CLIS_DESC = [("mybk", ".mybk_cli.cli")]\n'
_DECO = """
from metaflow.decorators import StepDecorator

class MyBkDecorator(StepDecorator):
    name = "mybk"
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
"""
_CLI = """
import click

@click.group()
def cli():
    pass

@cli.group()
def mybk():
    pass

@mybk.command()
@click.argument("step-name")
@click.pass_context
def step(ctx, step_name, **kwargs):
{body}
"""


class EnvironmentBootstrapIgnored(ProjectRule):
    """## What it does
    For a compute-backend decorator whose trampoline CLI is in the project, checks that some
    module of the project calls ``<environment>.bootstrap_commands(...)`` and
    ``<environment>.executable(...)``.

    ## Why is this bad?
    ``@conda``, ``@pypi`` and ``--environment=uv`` only work remotely when the task script runs
    the environment's bootstrap commands and the step uses the environment's interpreter.
    Without them the remote runs the base interpreter and imports fail with
    ``ModuleNotFoundError`` (pitfall B8; metaflow-gha only runs ``pip install -r
    requirements.txt``).

    ## Example
    ```python
    script = " && ".join(init_cmds + ["python flow.py step ..."])
    ```

    ## Use instead
    ```python
    executable = ctx.obj.environment.executable(step_name, executable)
    script = " && ".join(
        init_cmds + environment.bootstrap_commands(step_name, ds_type) + [step_cli]
    )
    ```

    ## Known problems
    Only presence in the project is checked, not that the result reaches the task script.
    """

    code = "MFX306"
    name = "environment-bootstrap-ignored"
    message = "compute backend ignores the environment bootstrap"
    pitfalls = ("B8",)
    applies_to_core = True

    VALID = [
        Valid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO,
                "p/mybk_cli.py": _CLI.format(
                    body="    exe = ctx.obj.environment.executable(step_name, None)\n"
                    "    cmds = ctx.obj.environment.bootstrap_commands(step_name, 's3')\n"
                ),
            }
        ),
    ]
    INVALID = [
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO,
                "p/mybk_cli.py": _CLI.format(body="    cmds = ['pip install -r requirements.txt']  # bootstrap_commands(\n"),
            },
            count=1,
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for f, deco in compute_decorators(project):
            if cli_for_group(project, deco.command_group) is None:
                continue
            bootstrap = executable = False
            for g in same_extension(project, f):
                for c in file_calls_named(g, "bootstrap_commands", "executable"):
                    if isinstance(c.func, cst.Attribute):
                        if c.func.attr.value == "bootstrap_commands":
                            bootstrap = True
                        else:
                            executable = True
            missing = [n for n, ok in (("bootstrap_commands", bootstrap), ("executable", executable)) if not ok]
            if not missing:
                continue
            yield Report(
                node=deco.node.name,
                path=f.path,
                message=(
                    "the backend never calls `environment."
                    + "`/`environment.".join(missing)
                    + "(...)`: @conda/@pypi/uv environments are not set up remotely and the task "
                    "runs the base interpreter; add `environment.bootstrap_commands(step_name, ds_type)` "
                    "to the task script and run the step with `environment.executable(step_name, ...)`"
                ),
            )
