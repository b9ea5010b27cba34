"""engine-unreachable accepts both legitimate shapes of extension: `create` contacts the engine
(it must fail), or `create` only compiles (then `trigger`, the first call that must reach the
engine, must fail). The calls below really connect to a closed port."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from mfx.compliance import unreachable


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EngineClient:
    """What an extension does when it talks to its engine: a TCP connection, with its error handling."""

    def __init__(self, port: int, clear: bool = True) -> None:
        self.port, self.clear = port, clear

    def call(self) -> None:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        except OSError as exc:
            if self.clear:
                raise RuntimeError(f"engine at 127.0.0.1:{self.port} is unreachable: {exc.strerror}") from None
            raise RuntimeError("Traceback (most recent call last):\n  File ...\nsomething went wrong") from None


def _no_output(_deployed) -> str:
    return ""


def test_create_that_contacts_the_engine_is_the_call_tested() -> None:
    port = _closed_port()
    engine = EngineClient(port)
    attempt = unreachable.first_failure(lambda: engine.call(), lambda d: pytest.fail("trigger must not be called"), _no_output)
    assert attempt.stage == "create" and attempt.error is not None
    assert unreachable.problems(attempt, f"127.0.0.1:{port}", port) == []


def test_compile_only_create_then_trigger_is_the_call_tested() -> None:
    port = _closed_port()
    engine = EngineClient(port)
    compiled = []
    attempt = unreachable.first_failure(lambda: compiled.append("dag") or "deployed", lambda d: engine.call(), _no_output)
    assert compiled == ["dag"] and attempt.stage == "trigger"
    assert unreachable.problems(attempt, f"127.0.0.1:{port}", port) == []


def test_both_calls_succeeding_against_a_dead_engine_fails() -> None:
    attempt = unreachable.first_failure(lambda: "deployed", lambda d: "triggered", _no_output)
    found = unreachable.problems(attempt, "127.0.0.1:1", 1)
    assert len(found) == 1 and "both succeeded" in found[0]


@pytest.mark.parametrize("stage", ["create", "trigger"])
def test_unclear_errors_fail_in_either_shape(stage: str) -> None:
    port = _closed_port()
    engine = EngineClient(port, clear=False)
    create = engine.call if stage == "create" else (lambda: "deployed")
    attempt = unreachable.first_failure(create, lambda d: engine.call(), _no_output)
    found = unreachable.problems(attempt, f"127.0.0.1:{port}", port)
    assert attempt.stage == stage
    assert any("traceback" in f for f in found) and any("does not say" in f for f in found)


def test_cli_output_counts_as_the_message() -> None:
    """The error may be only in the CLI's output (the exception says 'exit 1'): that output is read."""
    port = _closed_port()
    proc_output = subprocess.run(
        [sys.executable, "-c", f"import socket,sys\ntry: socket.create_connection(('127.0.0.1', {port}), timeout=5)\nexcept OSError as e: sys.exit(f'cannot connect to 127.0.0.1:{port}: ' + e.strerror)"],
        capture_output=True, text=True, timeout=30,
    ).stderr

    def trigger(_deployed):
        raise RuntimeError("trigger exited 1")

    attempt = unreachable.first_failure(lambda: "deployed", trigger, lambda d: proc_output)
    assert unreachable.problems(attempt, f"127.0.0.1:{port}", port) == []
    silent = unreachable.first_failure(lambda: "deployed", trigger, _no_output)
    assert any("does not say" in f for f in unreachable.problems(silent, f"127.0.0.1:{port}", port))


def test_slow_failure_is_reported() -> None:
    attempt = unreachable.Attempt("trigger", unreachable.LIMIT_S + 1, "connection refused", RuntimeError("x"))
    found = unreachable.problems(attempt, "h:1", 1)
    assert len(found) == 1 and "took" in found[0] and found[0].startswith("trigger()")
