"""Engine unreachable: the first call that must reach the engine fails with a clear error in well under a minute.

That call is ``create`` when it registers the workflow with the engine, or ``trigger`` when
``create`` only compiles (both shapes are legitimate; see :mod:`mfx.compliance.unreachable`).
"""

from __future__ import annotations

import os
import re
import socket

import pytest

from mfx.compliance import unreachable
from mfx.compliance.expect import not_run, pitfall
from mfx.compliance.harness import Harness, cli_output, startup_seconds


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_port(address: str, port: int) -> str:
    """Swap the port of ``host:port`` or ``scheme://host:port/...``; else a bare 127.0.0.1 address."""
    if re.search(r":\d+", address):
        return re.sub(r":\d+", f":{port}", address, count=1)
    return f"127.0.0.1:{port}"


@pytest.mark.capability("engine-unreachable")
def test_create_fails_fast_when_engine_is_down(h: Harness, mfx_tag: str) -> None:
    var = h.engine.config.engine_address_env
    if not var:
        # An engine that runs inside the extension's own process (Dagster's execute_job, Prefect's
        # ephemeral mode) has no address to take down: the scenario cannot be set up, which is no failure.
        not_run(
            "[tool.mfx.compliance] engine_address_env is not set: name the environment variable (from the devstack's env.json) "
            "that holds the engine address; an engine that runs in-process, without a server, has none"
        )
    port = _closed_port()
    address = _with_port(os.environ.get(var, ""), port)
    impl = h.deployer("linear_flow", env={var: address})

    def output(deployed):
        return cli_output(getattr(deployed, "deployer", None) or impl)

    attempt = unreachable.first_failure(lambda: impl.create(**h.create_args([mfx_tag])), lambda d: d.trigger(), output)
    found = unreachable.problems(attempt, address, port, limit=unreachable.LIMIT_S + 2 * startup_seconds())
    fixes = {
        "took": "bound every engine call with a timeout (check_reachable) and exit non-zero",
        "traceback": "catch the engine error and print one line naming the address",
        "does not say": "name the engine address in the error",
        "both succeeded": "trigger must contact the engine and exit non-zero when it cannot",
    }
    if found:
        fix = next((f for key, f in fixes.items() if key in found[0]), None)
        pytest.fail(pitfall("O1", "\n".join(found), fix=fix), pytrace=False)
