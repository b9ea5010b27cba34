"""MFX324: remote-job cleanup relies only on ``atexit`` (B20)."""

from __future__ import annotations

import re

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel
from mfx.rule import Invalid, Valid

_OTHER_MECHANISMS = ("signal.signal", "ctypes.CDLL", "prctl.set_pdeathsig", "os.setpgrp", "os.setsid")


class AtexitOnlyCleanup(BackendFileRule):
    """## What it does
    In a module that uses Metaflow, flags ``atexit.register(...)`` of a callable that kills or
    cancels something (``lambda: self.job.kill()``, ``best_effort_kill``) when the module has no
    other cleanup mechanism (no ``signal.signal``, no parent-death signal, no new process group).

    ## Why is this bad?
    When one task fails, Metaflow's runtime waits 5 seconds and then SIGKILLs the other
    trampolines. ``atexit`` handlers never run on SIGKILL, so the remote jobs those trampolines
    submitted keep running, and keep costing, after the run has failed (pitfall B20; verified
    with Slurm: ``squeue`` still shows the sibling job). Job-side limits, a lease/heartbeat the
    job checks, or (for local subprocesses) ``PR_SET_PDEATHSIG`` are needed.

    ## Example
    ```python
    atexit.register(lambda: self.job.kill())
    ```

    ## Use instead
    ```python
    atexit.register(lambda: self.job.kill())      # Ctrl-C path
    submit(..., time_limit=run_time_limit + slack)  # and a platform-side deadline
    ```

    ## Known problems
    The rule cannot see platform-side deadlines; Metaflow's own ``@batch``/``@kubernetes`` use
    ``atexit`` too and bound jobs with ``attemptDurationSeconds``/``activeDeadlineSeconds``, so
    the rule does not apply to Metaflow's core.
    """

    code = "MFX324"
    # Applicability pre-check (mfx.applicability), sound because it reports calls resolving to
    # `atexit.register`: the identifier `atexit` is written in the file
    TRIGGERS = ("atexit",)
    name = "atexit-only-cleanup"
    message = (
        "remote-job cleanup relies only on atexit, which never runs when Metaflow SIGKILLs the "
        "trampoline after another task fails: also bound the job on the platform side (time limit, lease)"
    )
    pitfalls = ("B20",)
    applies_to_core = False

    VALID = [
        Valid(
            """
import atexit, signal
from metaflow.exception import MetaflowException

class Job:
    def launch(self):
        atexit.register(self.kill)
        signal.signal(signal.SIGTERM, lambda *a: self.kill())
"""
        ),
        Valid(
            """
import atexit

atexit.register(print, "bye")
""",
            note="not Metaflow code",
        ),
        Valid(
            """
import atexit
from metaflow.exception import MetaflowException

def start(client):
    atexit.register(_clean_client, client)
""",
            note="cleaning a local client is not killing a remote job",
        ),
    ]
    INVALID = [
        Invalid(
            """
import atexit
from metaflow.exception import MetaflowException

class Slurm:
    def launch_job(self, **kwargs):
        self.job = submit(**kwargs)
        atexit.register(lambda: self.job.kill() if hasattr(self, "job") else None)
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        if not any(full.startswith("metaflow") for full in model.imports.names.values()):
            return
        calls = find_nodes(module, cst.Call)
        if any(model.imports.resolve(c.func) in _OTHER_MECHANISMS for c in calls):
            return
        for c in calls:
            if model.imports.resolve(c.func) == "atexit.register" and c.args and self._stops_a_job(c):
                self.report(c)

    @staticmethod
    def _stops_a_job(call: cst.Call) -> bool:
        """The registered callable (a name, a method or a lambda body) kills or cancels something."""
        words = [n.value for n in find_nodes(call.args[0].value, cst.Name)]
        return any(re.search(r"kill|cancel|terminate|delete|stop|scancel", w, re.IGNORECASE) for w in words)
