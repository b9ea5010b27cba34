"""Where a cold run spends its time: ``MFX_PROFILE=1 mfx check --no-cache -j1 ...``.

A hidden switch for performance work (see ``docs/lint/performance.md``). When the environment
variable ``MFX_PROFILE`` is set, the engine adds the wall time of each phase (parse, traversal,
positions, project rules) and of each rule's visitor methods into :data:`TIMES`, and the table is
printed on stderr when the process exits. Worker processes of a parallel run keep their own
tables, so profile with ``-j1``. When the variable is unset nothing is wrapped and nothing costs.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Iterator

ENABLED = bool(os.environ.get("MFX_PROFILE"))

#: ``{label: seconds}``; labels are ``phase:<name>`` or ``rule:<code>``; ``count:<what>`` labels
#: hold a number of files instead (the applicability pre-checks' skips).
TIMES: dict[str, float] = defaultdict(float)
_START = time.perf_counter()


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the wall time of the ``with`` body to ``phase:<name>`` (no-op unless enabled)."""
    if not ENABLED:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        TIMES[f"phase:{name}"] += time.perf_counter() - start


def timed(label: str, fn: Callable) -> Callable:
    """``fn`` wrapped so its wall time is added to ``label``."""

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[label] += time.perf_counter() - start

    return wrapper


def report() -> str:
    total = time.perf_counter() - _START
    lines = [f"mfx profile (wall seconds, this process; total since import {total:.2f} s)"]
    timed_items = [kv for kv in TIMES.items() if not kv[0].startswith("count:")]
    for label, seconds in sorted(timed_items, key=lambda kv: -kv[1]):
        lines.append(f"  {label:<28} {seconds:8.3f}")
    counts = sorted((kv for kv in TIMES.items() if kv[0].startswith("count:")), key=lambda kv: kv[0])
    for label, n in counts:
        lines.append(f"  {label:<40} {int(n):5d}")
    return "\n".join(lines)


def _print_at_exit() -> None:
    if TIMES:
        print(report(), file=sys.stderr)


if ENABLED:
    atexit.register(_print_at_exit)
