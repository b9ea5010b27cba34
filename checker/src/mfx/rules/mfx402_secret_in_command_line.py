"""MFX402: a credential from the environment is put on a command line."""

from __future__ import annotations

from mfx.analysis.security_base import SecurityFlowRule
from mfx.analysis.security_taint import Flow
from mfx.rule import Invalid, Valid


class SecretInCommandLine(SecurityFlowRule):
    """## What it does
    Flags credentials read from the environment (see MFX401 for the names) that reach the
    arguments of ``subprocess.*``, ``os.system``, ``os.popen`` or ``os.exec*``, following data
    flow within the function.

    ## Why is this bad?
    A command line is visible to every user of the machine (``ps``, ``/proc/<pid>/cmdline``), is
    recorded by engines as the task's command and shown in their UIs, and ends up in shell
    history and logs. Pass secrets through the process environment (``env=``) or a file readable
    only by the job.

    ## Example
    ```python
    subprocess.run(["gh", "api", "--token", os.environ["GITHUB_TOKEN"]], check=True)
    ```

    ## Use instead
    ```python
    subprocess.run(["gh", "api"], env={**os.environ, "GH_TOKEN": token}, check=True)
    ```
    """

    code = "MFX402"
    name = "secret-in-command-line"
    message = "a credential from the environment is put on a command line"
    sink_kinds = ("command",)

    VALID = [
        Valid(
            """
import os, subprocess

def call_api():
    token = os.environ["GITHUB_TOKEN"]
    subprocess.run(["gh", "api", "user"], env={"GH_TOKEN": token}, check=True, timeout=30)
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
import os, subprocess

def call_api():
    token = os.environ["GITHUB_TOKEN"].strip()
    cmd = ["curl", "-H", f"Authorization: Bearer {token}", "https://api.github.com"]
    subprocess.run(cmd, check=True, timeout=30)
    os.system("docker login -p " + os.environ.get("REGISTRY_PASSWORD", ""))
""",
            count=2,
        ),
    ]

    def describe(self, flow: Flow) -> str:
        return (
            f"`{flow.label}` (a credential) reaches the command line of `{flow.callee}`, visible in ps, "
            "engine UIs and logs: pass it through the process environment (env=) instead"
        )
