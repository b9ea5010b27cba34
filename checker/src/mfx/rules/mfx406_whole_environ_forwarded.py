"""MFX406: the whole ``os.environ`` is forwarded to a remote job or written into a spec."""

from __future__ import annotations

from mfx.analysis.security_base import SecurityFlowRule
from mfx.analysis.security_taint import Flow
from mfx.rule import Invalid, Valid


class WholeEnvironForwarded(SecurityFlowRule):
    """## What it does
    Flags the whole environment (``os.environ``, ``dict(os.environ)``, ``os.environ.copy()``,
    ``{**os.environ}``, an unfiltered comprehension over ``os.environ.items()``) when it reaches
    the ``env=``/``environment=``/``envs=`` argument of a call that is not a local process API
    (a remote job submission), or a file (``json.dump``, ``.write``…). Local ``subprocess`` calls
    are fine.

    ## Why is this bad?
    The launcher's environment holds every credential of the user (cloud keys, tokens, service
    headers) plus machine-specific paths such as ``METAFLOW_DATASTORE_SYSROOT_LOCAL`` that break
    the remote task (pitfall B10). Forwarding all of it leaks every secret to the remote
    platform and its UI, and into any spec it is written to. Forward an explicit list.

    ## Example
    ```python
    job = client.submit(command=cmd, env=dict(os.environ))
    ```

    ## Use instead
    ```python
    FORWARDED = ("METAFLOW_USER", "METAFLOW_DEFAULT_DATASTORE", "METAFLOW_DATASTORE_SYSROOT_S3")
    job = client.submit(command=cmd, env={k: os.environ[k] for k in FORWARDED if k in os.environ})
    ```
    """

    code = "MFX406"
    name = "whole-environ-forwarded"
    message = "the whole os.environ is forwarded"
    pitfalls = ("B10",)
    source_kind = "environ"
    sink_kinds = ("remote-env", "file")

    VALID = [
        Valid(
            """
import os, subprocess

FORWARDED = ("METAFLOW_USER", "METAFLOW_DEFAULT_DATASTORE")

def run_local(cmd):
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    subprocess.Popen(cmd, env=env)

def submit(client, cmd):
    env = {k: v for k, v in os.environ.items() if k in FORWARDED}
    return client.submit(command=cmd, env=env)
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
import json, os

def submit(client, cmd):
    env = os.environ.copy()
    env["METAFLOW_RUNTIME_ENVIRONMENT"] = "mybk"
    return client.submit(command=cmd, env=env)

def compile_spec(path):
    with open(path, "w") as f:
        json.dump({"spec": {"env": {**os.environ}}}, f)
""",
            count=2,
        ),
    ]

    def describe(self, flow: Flow) -> str:
        where = "a remote job's environment" if flow.sink == "remote-env" else "a file"
        return (
            f"the whole `os.environ` reaches {where} via `{flow.callee}`: it leaks every credential of the "
            "launcher and machine-local paths; forward an explicit list of variables"
        )
