# USER-OWNED: the Slurm engine calls of this backend. `copier update` never overwrites this file.
"""Slurm: submit with ``sbatch``, poll with ``scontrol show job``, cancel with ``scancel``.

Everything else (the job script, its environment, logs, metadata, retries, exit codes, orphan
protection) is done by the template's plumbing in ``backend/``; see ``backend/engine_api.py``.
The Slurm client commands find the cluster through ``SLURM_CONF`` (the devstack sets it).
"""

from __future__ import annotations

import math
import os
import re
import shlex
import subprocess
from typing import Dict, List

from .backend import engine_api
from .backend.engine_api import BackendEngine, EngineError, JobState, Resources
from .backend.exit_codes import from_signal_pair

TIMEOUT = 30  # seconds for any Slurm client command


def _run(args: List[str], stdin: str = "") -> str:
    try:
        proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise EngineError("%s not found: install the Slurm client (slurm-client)" % args[0]) from None
    except subprocess.TimeoutExpired:
        raise EngineError("%s did not answer in %d s: is slurmctld running?" % (args[0], TIMEOUT)) from None
    if proc.returncode != 0:
        raise EngineError("%s failed: %s" % (" ".join(args[:2]), proc.stderr.strip() or proc.stdout.strip()))
    return proc.stdout


class Engine(BackendEngine):
    STATE_MAP = {
        "PENDING": engine_api.PENDING,
        "CONFIGURING": engine_api.PENDING,
        "REQUEUED": engine_api.PENDING,
        "RUNNING": engine_api.RUNNING,
        "COMPLETING": engine_api.RUNNING,
        "SUSPENDED": engine_api.RUNNING,
        "COMPLETED": engine_api.SUCCEEDED,
        "FAILED": engine_api.FAILED,
        "TIMEOUT": engine_api.FAILED,
        "OUT_OF_MEMORY": engine_api.FAILED,
        "NODE_FAIL": engine_api.FAILED,
        "PREEMPTED": engine_api.FAILED,
        "BOOT_FAIL": engine_api.FAILED,
        "DEADLINE": engine_api.FAILED,
        "CANCELLED": engine_api.KILLED,
        "NOT_FOUND": engine_api.KILLED,
    }

    def submit(self, script: str, env: Dict[str, str], resources: Resources, time_limit: int, workdir: str, name: str) -> str:
        root = os.path.dirname(workdir)
        os.makedirs(root, exist_ok=True)
        # --export=NONE: the job gets exactly `env`, written into the script.
        exports = "".join("export %s=%s\n" % (k, shlex.quote(v)) for k, v in sorted(env.items()))
        args = [
            "sbatch", "--parsable", "--export=NONE", "--job-name=" + name[:100],
            "--chdir=" + root, "--output=" + workdir + ".out",
            "--cpus-per-task=%d" % math.ceil(float(resources.cpu)),
            "--mem=%d" % math.ceil(float(resources.memory)),
            "--time=%d" % max(1, math.ceil(time_limit / 60.0)),  # whole minutes, rounded up
        ]
        if float(resources.gpu or 0) > 0:
            args.append("--gres=gpu:%d" % math.ceil(float(resources.gpu)))
        if resources.queue:
            args.append("--partition=" + resources.queue)
        out = _run(args, stdin="#!/bin/bash\n" + exports + script)
        return out.strip().split(";")[0]

    def state(self, job_id: str) -> JobState:
        try:
            out = _run(["scontrol", "show", "job", "-o", job_id])
        except EngineError as ex:
            if "Invalid job id" in str(ex):
                return JobState("NOT_FOUND", None, "Slurm forgot the job")
            raise
        fields = dict(re.findall(r"(\w+)=(\S*)", out))
        native = fields.get("JobState", "UNKNOWN")
        exit_code = None
        if self.STATE_MAP.get(native) in engine_api.TERMINAL_PHASES:
            code, _, sig = fields.get("ExitCode", "0:0").partition(":")
            exit_code = from_signal_pair(int(code or 0), int(sig or 0))  # 0:<sig> -> 128+sig (B26)
        return JobState(native, exit_code, fields.get("Reason", "None").replace("None", ""))

    def cancel(self, job_id: str) -> None:
        _run(["scancel", job_id])

    def logs(self, job_id: str) -> str:
        out = _run(["scontrol", "show", "job", "-o", job_id])
        path = dict(re.findall(r"(\w+)=(\S*)", out)).get("StdOut", "")
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
