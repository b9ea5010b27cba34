"""MFX401: a credential from the environment is written into a file (a compiled spec, a script)."""

from __future__ import annotations

from mfx.analysis.security_base import SecurityFlowRule
from mfx.analysis.security_taint import Flow
from mfx.rule import Invalid, Valid


class SecretWrittenToFile(SecurityFlowRule):
    """## What it does
    Follows credentials read from the environment (``os.environ["AWS_SECRET_ACCESS_KEY"]``,
    ``os.getenv("GITHUB_TOKEN")``, ``*_PASSWORD``, ``METAFLOW_SERVICE_AUTH_KEY``, Metaflow's
    ``SERVICE_HEADERS``…) through assignments, containers and string building within a function,
    and flags the ones that reach a file: ``json.dump``, ``yaml.dump(…, stream)``,
    ``f.write(...)``, ``Path.write_text(...)``.

    ## Why is this bad?
    Compiled workflow specs, job scripts and generated files are stored, uploaded to the engine,
    shown in its UI and often committed. A secret baked into them outlives the credential's
    rotation and is readable by everyone who can read the spec. Reference the secret by name
    instead (an engine secret, a Kubernetes secret, an environment variable resolved at run
    time).

    ## Example
    ```python
    spec = {"env": {"AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"]}}
    json.dump(spec, f)
    ```

    ## Use instead
    ```python
    spec = {"env": {"AWS_SECRET_ACCESS_KEY": {"secretKeyRef": "aws-credentials"}}}
    json.dump(spec, f)
    ```
    """

    code = "MFX401"
    name = "secret-written-to-file"
    message = "a credential from the environment is written to a file"
    pitfalls = ()
    sink_kinds = ("file",)

    VALID = [
        Valid(
            """
import json, os

def compile_spec(path):
    spec = {"env": {"AWS_SECRET_ACCESS_KEY": {"secretKeyRef": "aws"}}, "has_token": "GITHUB_TOKEN" in os.environ}
    token_len = len(os.environ.get("GITHUB_TOKEN", ""))
    with open(path, "w") as f:
        json.dump(spec, f)
        f.write(str(token_len))
"""
        ),
        Valid(
            """
import os, subprocess

def launch(cmd):
    env = {"AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"]}
    subprocess.run(cmd, env=env, check=True, timeout=60)
""",
            note="passing credentials through a process environment is not writing them to a file",
        ),
    ]
    INVALID = [
        Invalid(
            """
import json, os

def compile_spec(path, step):
    env = {"METAFLOW_USER": "me"}
    env["AWS_SECRET_ACCESS_KEY"] = os.environ["AWS_SECRET_ACCESS_KEY"]
    spec = {"steps": [step], "env": env}
    with open(path, "w") as f:
        json.dump(spec, f)
""",
            count=1,
        ),
        Invalid(
            """
import os
from metaflow.metaflow_config import SERVICE_HEADERS

TOKEN = os.getenv("GH_TOKEN")

def write_script(path):
    lines = ["export GH_TOKEN='%s'" % TOKEN]
    with open(path, "w") as f:
        f.write("\\n".join(lines))

def write_headers(p):
    p.write_text(str(SERVICE_HEADERS))
""",
            count=2,
            note="a module-level constant and Metaflow's SERVICE_HEADERS",
        ),
    ]

    def describe(self, flow: Flow) -> str:
        return (
            f"`{flow.label}` (a credential) reaches `{flow.callee}` and is written to a file: compiled "
            "specs and generated scripts are stored and shown; reference the secret by name and resolve it at run time"
        )
