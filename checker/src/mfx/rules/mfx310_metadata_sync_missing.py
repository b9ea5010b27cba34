"""MFX310: local metadata written remotely is never synced back (B12)."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.backend_base import calls_named, file_calls_named
from mfx.analysis.backend_project import (
    cli_for_group,
    compute_decorators,
    same_extension,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_REG = 'CLIS_DESC = [("mybk", ".mybk_cli.cli")]\n'
_DECO = """
import os
from metaflow.decorators import StepDecorator
from metaflow.metadata_provider.util import sync_local_metadata_to_datastore
from metaflow.metaflow_config import DATASTORE_LOCAL_DIR

class MyBkDecorator(StepDecorator):
    name = "mybk"
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
{finished}
"""
_FINISHED = """
    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_user_code_retries):
        if "MYBK_WORKLOAD" in os.environ and self.metadata.TYPE == "local":
            sync_local_metadata_to_datastore(DATASTORE_LOCAL_DIR, self.task_datastore)
"""
_CLI = """
import click
from metaflow.metadata_provider.util import sync_local_metadata_from_datastore

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
    try:
        pass
    finally:
{sync}
"""
_SYNC = "        sync_local_metadata_from_datastore('.metaflow', ctx.obj.flow_datastore.get_task_datastore(kwargs['run_id'], step_name, kwargs['task_id']))\n"


class MetadataSyncMissing(ProjectRule):
    """## What it does
    For a compute-backend decorator, checks that its ``task_finished`` calls
    ``sync_local_metadata_to_datastore`` (remote side) and, when its trampoline CLI is in the
    project, that the project calls ``sync_local_metadata_from_datastore`` (launcher side).

    ## Why is this bad?
    With local metadata (Metaflow's default) the remote task records attempts, artifacts and log
    locations under its own ``.metaflow``. Unless the remote saves that directory to the
    datastore and the trampoline copies it back, the runtime prints ``Done!`` but the client
    sees ``Run.successful == False``, no artifacts and empty logs (pitfall B12; metaflow-gha).

    ## Example
    ```python
    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
        self._sidecar.terminate()
    ```

    ## Use instead
    ```python
    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
        if "MYBK_WORKLOAD" in os.environ and self.metadata.TYPE == "local":
            sync_local_metadata_to_datastore(DATASTORE_LOCAL_DIR, self.task_datastore)
    ```
    and ``finally: sync_local_metadata_from_datastore(...)`` in the trampoline.
    """

    code = "MFX310"
    name = "metadata-sync-missing"
    message = "local metadata is never synced back"
    pitfalls = ("B12",)
    applies_to_core = True

    VALID = [
        Valid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO.format(finished=_FINISHED),
                "p/mybk_cli.py": _CLI.format(sync=_SYNC),
            }
        ),
    ]
    INVALID = [
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO.format(finished=""),
                "p/mybk_cli.py": _CLI.format(sync=_SYNC),
            },
            count=1,
            note="no task_finished",
        ),
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO.format(finished=_FINISHED),
                "p/mybk_cli.py": _CLI.format(sync="        pass  # sync_local_metadata_from_datastore(...)\n"),
            },
            count=1,
            note="trampoline never syncs back",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for f, deco in compute_decorators(project):
            from_ds_called = any(
                file_calls_named(g, "sync_local_metadata_from_datastore") for g in same_extension(project, f)
            )
            finished = deco.methods.get("task_finished")
            if finished is None or not calls_named(finished, "sync_local_metadata_to_datastore"):
                yield Report(
                    node=finished.name if finished is not None else deco.node.name,
                    path=f.path,
                    message=(
                        "the remote `task_finished` never calls `sync_local_metadata_to_datastore`: with "
                        "local metadata the client sees the run as unsuccessful with no artifacts; call it "
                        "(guarded by the workload marker) when `self.metadata.TYPE == \"local\"`"
                    ),
                )
            cli = cli_for_group(project, deco.command_group)
            if cli is not None and cli.step is not None and not from_ds_called:
                yield Report(
                    node=cli.step.func.name,
                    path=cli.file.path,
                    message=(
                        "the trampoline never calls `sync_local_metadata_from_datastore`: remote local "
                        "metadata never reaches the launcher; call it in a `finally:` (wrapped in try/except)"
                    ),
                )
