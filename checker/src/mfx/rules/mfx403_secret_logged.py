"""MFX403: a credential from the environment is printed or logged."""

from __future__ import annotations

from mfx.analysis.security_base import SecurityFlowRule
from mfx.analysis.security_taint import Flow
from mfx.rule import Invalid, Valid


class SecretLogged(SecurityFlowRule):
    """## What it does
    Flags credentials read from the environment (see MFX401 for the names) that reach
    ``print``, ``logging``/``logger`` calls, ``click.echo``, Metaflow's ``echo``/``echo_always``
    or ``sys.stderr.write``, following data flow within the function.

    ## Why is this bad?
    Task and launcher output is persisted by Metaflow (``task.stdout``, the ``runtime`` log
    source), shipped to engines' log stores and shown in UIs and CI logs. A secret printed
    "for debugging" is readable by everyone with access to the run (modal's debug prints show
    how easily this happens).

    ## Example
    ```python
    echo("using headers %s" % SERVICE_HEADERS)
    ```

    ## Use instead
    ```python
    echo("using %d service headers" % len(SERVICE_HEADERS or {}))
    ```
    """

    code = "MFX403"
    name = "secret-logged"
    message = "a credential from the environment is logged"
    sink_kinds = ("log",)

    VALID = [
        Valid(
            """
import os, logging

log = logging.getLogger(__name__)

def debug():
    print("token set:", "GITHUB_TOKEN" in os.environ)
    log.info("token length %d", len(os.environ.get("GITHUB_TOKEN", "")))
    print("user:", os.environ.get("METAFLOW_USER"))
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
import os, logging
import click
from metaflow.metaflow_config import SERVICE_HEADERS

logger = logging.getLogger(__name__)

def debug(echo):
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    print(f"[debug] secret: {secret}")
    logger.debug("headers %s", SERVICE_HEADERS)
    click.echo(os.environ["DAYTONA_API_KEY"])
    echo("auth %s" % os.getenv("METAFLOW_SERVICE_AUTH_KEY"))
""",
            count=4,
        ),
    ]

    def describe(self, flow: Flow) -> str:
        return (
            f"`{flow.label}` (a credential) is logged by `{flow.callee}`; logs are persisted and shown "
            "in UIs: log that it is set (or its length), never its value"
        )
