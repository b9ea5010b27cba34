"""Garbage-collector settings for a lint run.

libcst trees are acyclic (children only, no parent links): reference counting frees them and
the cyclic collector finds nothing in them. Yet with CPython's default thresholds it runs a
young collection every 700 allocations and, as the kept trees grow the heap, full collections
that rescan every tree: on the benchmark corpus that was ~10 % of a cold run (and ~0.5 s on a
plain parse that keeps its trees, see docs/lint/performance.md). During a run the collector is
made to run less often (it still runs: cycles made by the analyses are collected), and the
objects that exist when the run starts (imported modules, the rules) are frozen out of its
scans. Everything is restored afterwards, so in-process callers (tests, ``--fix`` passes) are
unaffected."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator

#: Young-generation allocations between collections, then how many young (middle) collections
#: per middle (old) one: ~70x and 2x CPython's defaults of (700, 10, 10).
THRESHOLDS = (50_000, 20, 20)


@contextlib.contextmanager
def lint_gc() -> Iterator[None]:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count() == 0  # nested runs leave the outer run's freeze alone
    if frozen:
        gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if frozen:
            gc.unfreeze()
