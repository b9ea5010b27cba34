"""MFX317: a compute backend never applies ``@retry(minutes_between_retries=...)`` (B16)."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.backend_base import find_nodes
from mfx.analysis.backend_names import string_value
from mfx.analysis.backend_project import (
    cli_for_group,
    compute_decorators,
    same_extension,
)
from mfx.analysis.orchestrator_project import may_mention
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
import time
import click

@click.group()
def cli():
    pass

@cli.group()
def mybk():
    pass

@mybk.command()
@click.argument("step-name")
@click.option("--retry-count", default=0)
@click.pass_context
def step(ctx, step_name, retry_count, **kwargs):
    \"\"\"Honours minutes_between_retries (a docstring is not code).\"\"\"
{body}
"""


def reads_retry_delay(f: FileContext) -> bool:
    """``"minutes_between_retries"`` used as a subscript key or call argument (not in docs)."""
    if not may_mention(f, ("minutes_between_retries",)):
        return False
    for sub in find_nodes(f.module, cst.SubscriptElement):
        if isinstance(sub.slice, cst.Index) and string_value(sub.slice.value) == "minutes_between_retries":
            return True
    for call in find_nodes(f.module, cst.Call):
        if any(string_value(a.value) == "minutes_between_retries" for a in call.args):
            return True
    return False


class RetryDelayIgnored(ProjectRule):
    """## What it does
    For a compute backend whose trampoline CLI is in the project, checks that some module reads
    the ``retry`` decorator's ``minutes_between_retries`` attribute (as
    ``deco.attributes["minutes_between_retries"]`` or ``.get("minutes_between_retries", ...)``).

    ## Why is this bad?
    Metaflow's runtime starts a retry immediately; the delay of
    ``@retry(minutes_between_retries=...)`` is implemented by each compute backend's trampoline
    (``if retry_count: time.sleep(minutes * 60)`` in ``batch_cli.py`` and
    ``kubernetes_cli.py``). A backend that skips it retries at once, usually into the same
    transient failure (pitfall B16; metaflow-gha, metaflow-sandbox).

    ## Example
    ```python
    def step(ctx, step_name, retry_count, **kwargs):
        launch(...)
    ```

    ## Use instead
    ```python
    retry_deco = [d for d in node.decorators if d.name == "retry"]
    if retry_count and retry_deco:
        time.sleep(int(retry_deco[0].attributes.get("minutes_between_retries", 2)) * 60)
    ```
    """

    code = "MFX317"
    name = "retry-delay-ignored"
    message = "compute backend ignores @retry(minutes_between_retries=...)"
    pitfalls = ("B16",)
    applies_to_core = True

    VALID = [
        Valid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO,
                "p/mybk_cli.py": _CLI.format(
                    body="    retry = [d for d in ctx.obj.graph[step_name].decorators if d.name == 'retry']\n"
                    "    if retry_count and retry:\n"
                    "        time.sleep(int(retry[0].attributes.get('minutes_between_retries', 2)) * 60)\n"
                ),
            }
        ),
    ]
    INVALID = [
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO,
                "p/mybk_cli.py": _CLI.format(body="    pass\n"),
            },
            count=1,
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for f, deco in compute_decorators(project):
            cli = cli_for_group(project, deco.command_group)
            if cli is None or cli.step is None:
                continue
            if any(reads_retry_delay(g) for g in same_extension(project, f)):
                continue
            yield Report(
                node=cli.step.func.name,
                path=cli.file.path,
                message=(
                    "the trampoline never reads the retry decorator's `minutes_between_retries`: the "
                    "runtime does not wait between attempts, the backend must; sleep "
                    "`minutes_between_retries * 60` when `retry_count > 0`"
                ),
            )
