"""MFX218: a step executed in-process with ``MetaflowTask`` instead of a ``step`` process."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import import_map, qualify, walk
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid


class StepRunInProcess(Rule):
    """## What it does
    Flags a call of ``metaflow.task.MetaflowTask``.

    ## Why is this bad?
    An orchestrator that runs a step through ``MetaflowTask`` inside its own (worker) process
    bypasses the ``step`` command: ``@timeout`` relies on ``SIGALRM``, which only works in the
    main thread of a process of its own, so timeouts never fire or ``signal.signal`` raises;
    decorator hooks, logging and exit codes also differ from a real task (pitfall O17). Run
    ``python flow.py ... step <name> ...`` as a separate process.

    ## Example
    ```python
    task = MetaflowTask(flow, flow_datastore, metadata, environment, echo, logger, monitor, None)
    task.run_step(step_name, run_id, task_id, None, input_paths, split_index, 0, 0)
    ```

    ## Use instead
    ```python
    subprocess.run([sys.executable, flow_file, "step", step_name, "--run-id", run_id, ...], check=True)
    ```
    """

    code = "MFX218"
    # Applicability pre-check (mfx.applicability), sound because it reports calls resolving to
    # `metaflow.task.MetaflowTask`: the identifier is written in the file
    TRIGGERS = ("MetaflowTask",)
    name = "step-run-in-process"
    message = (
        "step executed in-process with MetaflowTask: @timeout and decorator hooks need a real "
        "`python flow.py step ...` process; launch the step command instead"
    )
    pitfalls = ("O17",)
    #: Metaflow's own `step` command is where MetaflowTask belongs.
    applies_to_core = False

    VALID = [
        Valid(
            """
import subprocess, sys

def run_step(flow_file, name, run_id):
    subprocess.run([sys.executable, flow_file, "step", name, "--run-id", run_id], check=True, timeout=3600)
"""
        )
    ]
    INVALID = [
        Invalid(
            """
from metaflow.task import MetaflowTask

def run_step(flow, ds, md, env, echo, logger, monitor):
    MetaflowTask(flow, ds, md, env, echo, logger, monitor, None).run_step("a", "1", "2", None, [], None, 0, 0)
""",
            count=1,
        )
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        imports = import_map(file.module)
        for call in walk(file.module):
            if type(call) is cst.Call and qualify(call.func, imports) == "metaflow.task.MetaflowTask":
                yield self.report(call)
