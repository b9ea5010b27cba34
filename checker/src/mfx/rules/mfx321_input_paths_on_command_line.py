"""MFX321: the trampoline passes ``--input-paths`` on the remote command line (B25)."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.backend_base import find_nodes
from mfx.analysis.backend_project import (
    cli_for_group,
    compute_decorators,
    same_extension,
)
from mfx.engine.context import FileContext, ProjectContext
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
@click.option("--input-paths")
def step(step_name, input_paths=None, **kwargs):
    \"\"\"Moves input paths into METAFLOW_INPUT_PATHS_<i> (a docstring is not code).\"\"\"
    env = {{}}
{body}
"""


def splits_input_paths(f: FileContext) -> bool:
    """A string in code (not a docstring) that names ``METAFLOW_INPUT_PATHS_<i>``."""
    if "METAFLOW_INPUT_PATHS" not in f.source:
        return False  # searched in the literals' source text below, so in the file's text
    docstrings = set()
    for node in find_nodes(f.module, cst.CSTNode):
        if isinstance(node, (cst.Module, cst.FunctionDef, cst.ClassDef)):
            body = node.body if isinstance(node, cst.Module) else getattr(node.body, "body", [])
            if body and isinstance(body[0], cst.SimpleStatementLine) and isinstance(body[0].body[0], cst.Expr):
                docstrings.add(id(body[0].body[0].value))
    for s in find_nodes(f.module, cst.SimpleString):
        if id(s) not in docstrings and "METAFLOW_INPUT_PATHS" in s.value:
            return True
    for part in find_nodes(f.module, cst.FormattedStringText):
        if "METAFLOW_INPUT_PATHS" in part.value:
            return True
    return False


class InputPathsOnCommandLine(ProjectRule):
    """## What it does
    For a compute backend whose trampoline CLI is in the project, checks that some module moves
    the input paths into ``METAFLOW_INPUT_PATHS_<i>`` environment variables (a string naming
    them in code, not in a docstring).

    ## Why is this bad?
    A join after a wide foreach receives every parent task's path in ``--input-paths``. On the
    remote command line that exceeds argv/env limits ("Argument list too long") or the
    platform's request size. Metaflow's backends split the value into 30 KiB chunks
    ``METAFLOW_INPUT_PATHS_<i>`` and pass ``${METAFLOW_INPUT_PATHS_0}...`` instead (pitfall
    B25).

    ## Example
    ```python
    step_cli = f"... step {step_name} " + " ".join(util.dict_to_cli_options(kwargs))
    ```

    ## Use instead
    ```python
    input_paths = kwargs.get("input_paths")
    if input_paths:
        size = 30 * 1024
        split = {"METAFLOW_INPUT_PATHS_%d" % (i // size): input_paths[i:i + size]
                 for i in range(0, len(input_paths), size)}
        kwargs["input_paths"] = "".join("${%s}" % s for s in split)
        env.update(split)
    ```
    """

    code = "MFX321"
    name = "input-paths-on-command-line"
    message = "input paths are passed on the remote command line"
    pitfalls = ("B25",)
    applies_to_core = True

    VALID = [
        Valid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO,
                "p/mybk_cli.py": _CLI.format(
                    body="    size = 30 * 1024\n"
                    "    env.update({'METAFLOW_INPUT_PATHS_%d' % (i // size): input_paths[i:i + size] for i in range(0, len(input_paths), size)})\n"
                ),
            }
        ),
    ]
    INVALID = [
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO,
                "p/mybk_cli.py": _CLI.format(body="    cmd = ['--input-paths', input_paths]  # METAFLOW_INPUT_PATHS_0\n"),
            },
            count=1,
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for f, deco in compute_decorators(project):
            cli = cli_for_group(project, deco.command_group)
            if cli is None or cli.step is None:
                continue
            if any(splits_input_paths(g) for g in same_extension(project, f)):
                continue
            yield Report(
                node=cli.step.func.name,
                path=cli.file.path,
                message=(
                    "`--input-paths` reaches the remote command line unsplit: a wide join exceeds argv "
                    "limits; move it into `METAFLOW_INPUT_PATHS_<i>` env vars (30 KiB chunks) and pass "
                    "`${METAFLOW_INPUT_PATHS_0}...` instead"
                ),
            )
