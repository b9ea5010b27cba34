"""A parallel cold run in which every file is parsed once, project rules included.

Per-file rules need one file's tree; project rules need the trees of the files they look at,
in one process. A plain process pool leaves the trees in the workers, so the process running the
project rules had to parse those files a second time (a parallel run used to cost ~1.5x the CPU
of a serial one). Here the files are *claimed* instead of handed out:

* ``jobs - 1`` forked workers and this process share one claim table (a byte per file:
  nobody, a worker, this process) and a cursor; workers take the next unclaimed file, biggest
  first, lint it and send the diagnostics back on a queue;
* meanwhile this process runs the project rules; a file they read is claimed for this process
  when nobody has it yet, so its tree serves both the project rules and, afterwards, the
  per-file rules. Only a file a worker already took is parsed twice;
* this process then lints what it claimed and joins the workers on the unclaimed rest. A worker
  that runs out of unclaimed files takes (and parses again) the last of the files still waiting
  here, so that the run does not end with one busy process and idle workers.

Which process lints which file varies from run to run; what is found does not (the diagnostics
are sorted at the end, and both kinds of rules see the same trees they would see serially). A
file that does not parse is left out of the project rules, as in a serial run: the project rules
are run again without it when they happened to read it first (:func:`run_project_rules_lazily`).
A worker that dies (a native crash) loses nothing: the files it had claimed without answering
are linted here.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import sys
from typing import Iterator, Sequence

from mfx.selection import PerFileIgnores

#: Claim states: nobody yet, a worker, this process, this process with its tree already built
#: (a worker that has nothing else left may still take it).
NOBODY, WORKER, PARENT, PARENT_TREE = 0, 1, 2, 3

#: How long this process waits for a worker's next answer before checking that it is alive.
POLL_SECONDS = 0.2


class Claims:
    """The claim table shared by this process and its forked workers."""

    def __init__(self, count: int, ctx) -> None:
        self.count = count
        self.owner = ctx.RawArray("b", count)
        self.cursor = ctx.RawValue("i", 0)
        self.lock = ctx.Lock()

    def next(self, who: int) -> int | None:
        """Claim the first unclaimed file in order (biggest first) for ``who``; a worker that
        finds none takes the last file this process parsed but has not linted yet."""
        with self.lock:
            i = self.cursor.value
            while i < self.count and self.owner[i] != NOBODY:
                i += 1
            self.cursor.value = min(i + 1, self.count)
            if i < self.count:
                self.owner[i] = who
                return i
            if who == WORKER:
                for j in range(self.count - 1, -1, -1):
                    if self.owner[j] == PARENT_TREE:
                        self.owner[j] = WORKER
                        return j
            return None

    def claim(self, i: int, who: int) -> bool:
        """Claim file ``i`` for ``who`` unless somebody has it already."""
        with self.lock:
            if self.owner[i] != NOBODY:
                return False
            self.owner[i] = who
            return True

    def take_back(self, i: int) -> bool:
        """This process starts linting file ``i`` it parsed earlier, unless a worker took it."""
        with self.lock:
            if self.owner[i] != PARENT_TREE:
                return False
            self.owner[i] = PARENT
            return True

    def owned_by(self, who: int) -> list[int]:
        with self.lock:
            return [i for i in range(self.count) if self.owner[i] == who]


def _context():
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _worker(
    claims: Claims,
    items: Sequence[tuple[str, str]],
    codes: tuple[str, ...],
    pfi: PerFileIgnores,
    results,
) -> None:
    from mfx.engine.lint import lint_text

    try:
        while True:
            i = claims.next(WORKER)
            if i is None:
                break
            relpath, text = items[i]
            diagnostics, ok = lint_text(relpath, text, codes, pfi)
            results.put((i, diagnostics, ok))
    finally:
        results.put(None)  # this worker is done (its queue's feeder thread flushes on exit)


class ClaimPool:
    """Workers started on ``items`` (sorted biggest first by the caller) for ``jobs - 1`` more
    processes; this process claims files with :meth:`claim_for_here` / :meth:`next_for_here`
    and collects the workers' answers with :meth:`worker_results`."""

    def __init__(self, items: Sequence[tuple[str, str]], jobs: int, codes: tuple[str, ...], pfi: PerFileIgnores) -> None:
        ctx = _context()
        self.items = items
        self.position = {relpath: i for i, (relpath, _) in enumerate(items)}
        self.claims = Claims(len(items), ctx)
        self.results = ctx.Queue()
        self.workers = [
            ctx.Process(target=_worker, args=(self.claims, items, codes, pfi, self.results), daemon=True)
            for _ in range(max(1, jobs - 1))
        ]
        for w in self.workers:
            w.start()

    def claim_for_here(self, relpath: str) -> bool:
        """Claim a file whose tree this process is building (for the project rules)."""
        i = self.position.get(relpath)
        return i is not None and self.claims.claim(i, PARENT_TREE)

    def take_back(self, relpath: str) -> bool:
        """Whether this process still lints a file it claimed with :meth:`claim_for_here`."""
        return self.claims.take_back(self.position[relpath])

    def next_for_here(self) -> int | None:
        return self.claims.next(PARENT)

    def worker_results(self) -> Iterator[tuple[str, list, bool]]:
        """Every answer of the workers, then the files a dead worker claimed but never
        answered for, as ``(relpath, None, None)`` (to be linted by the caller)."""
        answered: set[int] = set()
        running = len(self.workers)
        while running:
            try:
                got = self.results.get(timeout=POLL_SECONDS)
            except queue_module.Empty:
                if all(not w.is_alive() for w in self.workers):
                    break  # a worker died without saying it was done
                continue
            if got is None:
                running -= 1
                continue
            i, diagnostics, ok = got
            answered.add(i)
            yield self.items[i][0], diagnostics, ok
        for w in self.workers:
            w.join(timeout=5)
            if w.is_alive():  # pragma: no cover - a worker stuck after its last answer
                w.kill()
        for i in self.claims.owned_by(WORKER):
            if i not in answered:
                yield self.items[i][0], None, None
        self.results.close()


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


__all__ = ["ClaimPool", "Claims", "cpu_count", "NOBODY", "WORKER", "PARENT", "PARENT_TREE"]
