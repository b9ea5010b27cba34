"""MFX325: a compute backend does not capture, upload and tail task logs through the datastore (B17)."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.backend_base import calls_named, find_nodes
from mfx.analysis.backend_names import string_value
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
from metaflow.sidecar import Sidecar

class MyBkDecorator(StepDecorator):
    name = "mybk"
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
    def task_pre_step(self, *args):
        if "MYBK_WORKLOAD" in os.environ:
            self._save_logs_sidecar = Sidecar({sidecar!r})
            self._save_logs_sidecar.start()
"""
_CLI = """
import click
from metaflow.mflog import BASH_SAVE_LOGS, bash_capture_logs, tail_logs, get_log_tailer

@click.group()
def cli():
    pass

@cli.group()
def mybk():
    pass

@mybk.command()
@click.argument("step-name")
def step(step_name, **kwargs):
    script = bash_capture_logs("python flow.py step") + "; c=$?; %s; exit $c" % BASH_SAVE_LOGS
{tail}
"""
_TAIL = "    tail_logs(prefix='[x]', stdout_tail=get_log_tailer('s3://a', 's3'), stderr_tail=None, echo=print, has_log_updates=lambda: False)\n"


def _polls_a_tailer(module: cst.Module) -> bool:
    """A function that calls ``get_log_tailer`` and has a ``while`` loop: it tails while the job runs."""
    for func in find_nodes(module, cst.FunctionDef):
        if calls_named(func, "get_log_tailer") and find_nodes(func.body, cst.While):
            return True
    return False


class TaskLogsNotStreamed(ProjectRule):
    """## What it does
    For a compute backend with its trampoline CLI in the project, checks for
    ``bash_capture_logs(...)`` and ``BASH_SAVE_LOGS`` in the task script,
    ``Sidecar("save_logs_periodically")`` in the remote ``task_pre_step`` and ``tail_logs`` in the
    trampoline (or an own polling loop over ``get_log_tailer``: a function with a ``while`` loop).

    ## Why is this bad?
    Without ``bash_capture_logs``/``BASH_SAVE_LOGS`` the task's output never reaches
    ``task.stdout``; without the sidecar it is uploaded only when the step ends; without
    ``tail_logs`` the launcher shows nothing live, and echoing the platform's raw output instead
    stores it a second time in the runtime log (pitfall B17; gha, sandbox and modal each miss
    part of it).

    ## Example
    ```python
    result = sandbox.exec(script)
    for line in result.stdout.splitlines():
        echo(line)
    ```

    ## Use instead
    ```python
    ds = ctx.obj.flow_datastore.get_task_datastore(mode="w", run_id=run_id, step_name=step_name,
                                                    task_id=task_id, attempt=retry_count)
    tail_logs(prefix, stdout_tail=get_log_tailer(ds.get_log_location(TASK_LOG_SOURCE, "stdout"), ds.TYPE),
              stderr_tail=..., echo=echo, has_log_updates=lambda: job.is_running)
    ```

    ## Known problems
    Only presence in the project is checked, not that the pieces are wired together.
    """

    code = "MFX325"
    name = "task-logs-not-streamed"
    message = "task logs are not captured, uploaded and tailed through the datastore"
    pitfalls = ("B17",)
    applies_to_core = True

    VALID = [
        Valid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO.format(sidecar="save_logs_periodically"),
                "p/mybk_cli.py": _CLI.format(tail=_TAIL),
            }
        ),
        Valid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO.format(sidecar="save_logs_periodically"),
                "p/mybk_cli.py": _CLI.format(
                    tail="    tailer = get_log_tailer('s3://a', 's3')\n"
                    "    while job.running():\n        for line in tailer:\n            print(line)\n"
                ),
            },
            note="an own polling loop over Metaflow's datastore tailer",
        ),
    ]
    INVALID = [
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO.format(sidecar="save_logs_periodically"),
                "p/mybk_cli.py": _CLI.format(tail="    print(script)  # tail_logs(...)\n"),
            },
            count=1,
            note="no live tailing (modal, sandbox)",
        ),
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO.format(sidecar="save_logs_periodically"),
                "p/mybk_cli.py": _CLI.format(
                    tail="    code = job.wait()\n    if code != 0:\n"
                    "        for line in get_log_tailer('s3://a', 's3'):\n            print(line)\n"
                ),
            },
            count=1,
            note="the datastore logs read once, after the job ended (modal)",
        ),
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _DECO.format(sidecar="heartbeat"),
                "p/mybk_cli.py": _CLI.format(tail=_TAIL),
            },
            count=1,
            note="no save_logs_periodically sidecar (gha)",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for f, deco in compute_decorators(project):
            cli = cli_for_group(project, deco.command_group)
            if cli is None or cli.step is None:
                continue
            missing = self._missing(same_extension(project, f))
            if not missing:
                continue
            yield Report(
                node=cli.step.func.name,
                path=cli.file.path,
                message=(
                    "task logs are missing, late or duplicated: the backend never uses "
                    + "; ".join(missing)
                    + " (see kubernetes_cli.py / kubernetes.py)"
                ),
            )

    @staticmethod
    def _missing(files) -> list[str]:
        capture = save = sidecar = tail = False
        for f in files:
            if not any(name in f.source for name in ("bash_capture_logs", "tail_logs", "get_log_tailer", "BASH_SAVE_LOGS", "Sidecar")):
                continue  # every use below is spelled with one of these identifiers
            module = f.module
            capture = capture or bool(calls_named(module, "bash_capture_logs"))
            # Metaflow's tail_logs, or an own polling loop over its datastore tailers: get_log_tailer
            # in a function with a `while` loop. Read once after the job ended (modal: only when
            # it failed) is not live tailing.
            tail = tail or bool(calls_named(module, "tail_logs")) or _polls_a_tailer(module)
            save = save or any(n.value == "BASH_SAVE_LOGS" for n in find_nodes(module, cst.Name)) or any(
                a.attr.value == "BASH_SAVE_LOGS" for a in find_nodes(module, cst.Attribute)
            )
            sidecar = sidecar or any(
                c.args and string_value(c.args[0].value) == "save_logs_periodically"
                for c in calls_named(module, "Sidecar")
            )
        return [
            what
            for what, ok in (
                ("`bash_capture_logs(...)` around the step command", capture),
                ("`BASH_SAVE_LOGS` at the end of the task script", save),
                ('`Sidecar("save_logs_periodically")` in the remote task_pre_step', sidecar),
                ("`tail_logs(...)` (or a loop over `get_log_tailer(...)`) in the trampoline", tail),
            )
            if not ok
        ]
