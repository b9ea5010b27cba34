"""Engine unreachable (capability ``engine-unreachable``): which call must fail, and how.

Two shapes of extension are legitimate:

* ``create`` talks to the engine (registers the workflow): then ``create`` must fail;
* ``create`` only compiles (writes a DAG file, a spec...) and never contacts the engine: then it
  may succeed, and the first call that must reach the engine, ``trigger``, must fail.

Either way the failing call must fail within :data:`LIMIT_S` seconds, without a traceback, with a
message naming the engine (its port, or "unreachable" / "connect" / "refused"). A ``trigger``
that succeeds against a dead engine is a failure too: no run can have been started.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

LIMIT_S = 60.0
NAMES_ENGINE = re.compile(r"unreachable|connect|refused|not reachable|no route|timed? ?out", re.I)


@dataclass
class Attempt:
    """The first call that failed against the dead engine (``stage`` is ``create`` or ``trigger``)."""

    stage: str
    seconds: float
    message: str
    error: Optional[BaseException]  # None: nothing failed (both calls succeeded)


def first_failure(create: Callable[[], Any], trigger: Callable[[Any], Any], output: Callable[[Optional[Any]], str]) -> Attempt:
    """Call ``create()``; if it succeeds (a compile-only create), call ``trigger(deployed)``.

    ``output(deployed_or_None)`` returns the CLI's output of the call just made (the text a user saw).
    """
    started = time.monotonic()
    try:
        deployed = create()
    except Exception as exc:
        return Attempt("create", time.monotonic() - started, f"{exc}\n{output(None)}", exc)
    started = time.monotonic()
    try:
        trigger(deployed)
    except Exception as exc:
        return Attempt("trigger", time.monotonic() - started, f"{exc}\n{output(deployed)}", exc)
    return Attempt("trigger", time.monotonic() - started, output(deployed), None)


def problems(attempt: Attempt, address: str, port: int, limit: float = LIMIT_S) -> List[str]:
    """What is wrong with ``attempt`` (empty: the extension handles a dead engine well); ``limit``: seconds
    the call may take (the suite adds this machine's interpreter start-up, harness.create_timeout)."""
    if attempt.error is None:
        return [
            f"create() and trigger() both succeeded against a dead engine at {address}: "
            "trigger must fail when it cannot start the run"
        ]
    found = []
    what = f"{attempt.stage}() against a dead engine"
    if attempt.seconds >= limit:
        found.append(f"{what} took {attempt.seconds:.0f} s (limit {limit:.0f} s)")
    if "Traceback (most recent call last)" in attempt.message:
        found.append(f"{what}: the CLI printed a traceback instead of a clear error:\n{attempt.message[-1500:]}")
    if str(port) not in attempt.message and not NAMES_ENGINE.search(attempt.message):
        found.append(f"{what}: the error does not say the engine at {address} is unreachable:\n{attempt.message[-1500:]}")
    return found
