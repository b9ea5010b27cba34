"""Engine unreachable: create() must fail with a clear one-line error in well under a minute."""

from __future__ import annotations

import os
import re
import socket
import time

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, cli_output


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
        pytest.fail(
            "[tool.mfx.compliance] engine_address_env is not set: name the environment variable (from the devstack's env.json) that holds the engine address",
            pytrace=False,
        )
    port = _closed_port()
    address = _with_port(os.environ.get(var, ""), port)
    impl = h.deployer("linear_flow", env={var: address})
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        impl.create(tags=[mfx_tag])
    elapsed = time.monotonic() - started
    message = f"{info.value}\n{cli_output(impl)}"
    assert elapsed < 60, pitfall("O1", f"create() against a dead engine took {elapsed:.0f} s", fix="bound every engine call with a timeout (check_reachable) and exit non-zero")
    assert "Traceback (most recent call last)" not in message, pitfall(
        "O1", f"the CLI printed a traceback instead of a clear error:\n{message[-1500:]}", fix="catch the engine error and print one line naming the address"
    )
    assert str(port) in message or re.search(r"unreachable|connect|refused", message, re.I), pitfall(
        "O1", f"the error does not say the engine at {address} is unreachable:\n{message[-1500:]}", fix="name the engine address in the error"
    )
