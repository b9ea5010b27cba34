"""A parallel cold run in which files are parsed once, project rules included.

Per-file rules need one file's tree; project rules need the trees of the files they look at,
in one process. A plain process pool leaves the trees in the workers, so the process running the
project rules had to parse those files a second time (a parallel run used to cost ~1.5x the CPU
of a serial one). Here the files are *claimed* instead of handed out, from a table shared by
every process (a byte per file, biggest files first):

1. ``jobs - 1`` workers are forked at once; each takes the next file nobody has, lints it and
   sends the diagnostics back on a queue;
2. meanwhile this process runs the project rules; a file they read is claimed for this process
   when nobody has it yet, so its tree is built here, once. Only a file a worker took before
   the project rules asked for it is parsed twice. The project rules are split in two (the
   caller decides how): the first worker runs one part the same way before it starts on
   other files, claiming what it reads for itself and linting those files afterwards, so that
   the project rules, which read most files of a large project, are not one process's job;
3. then ``jobs - 1`` more workers are forked: they inherit the trees built in step 2 (fork
   shares memory) and, with this process, lint those files without parsing them again, then
   any file still unclaimed. The first workers stop when no unclaimed file is left.

Which process lints which file varies from run to run; what is found does not (the diagnostics
are sorted at the end, and both kinds of rules see the trees they would see serially). A file
that does not parse is left out of the project rules, as in a serial run: the caller runs them
again when some file turns out not to parse. A worker that dies (a native crash) loses nothing:
the files it had claimed without answering are linted here. Where ``fork`` is not available,
step 3 is done by this process alone.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import sys
from typing import Callable, Iterator, Mapping, Sequence

from mfx.selection import PerFileIgnores

#: Claim states: nobody yet, a worker, this process, "tree built here, not linted yet", and
#: "tree built in the first worker (for its part of the project rules), not linted yet".
NOBODY, WORKER, PARENT, PARENT_TREE, HELPER_TREE = 0, 1, 2, 3, 4

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
        """Claim the first file nobody has (in order: biggest first) for ``who``."""
        with self.lock:
            i = self.cursor.value
            while i < self.count and self.owner[i] != NOBODY:
                i += 1
            self.cursor.value = min(i + 1, self.count)
            if i >= self.count:
                return None
            self.owner[i] = who
            return i

    def claim(self, i: int, who: int) -> bool:
        """Claim file ``i`` for ``who`` unless somebody has it already."""
        with self.lock:
            if self.owner[i] != NOBODY:
                return False
            self.owner[i] = who
            return True

    def next_tree(self, who: int, state: int = PARENT_TREE) -> int | None:
        """Claim for ``who`` the first file in ``state`` (a tree built, nobody linted it)."""
        with self.lock:
            for i in range(self.count):
                if self.owner[i] == state:
                    self.owner[i] = who
                    return i
            return None

    def owned_by(self, who: int) -> list[int]:
        with self.lock:
            return [i for i in range(self.count) if self.owner[i] == who]


def _context(method: str | None = None):
    if method is None:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def lint_claimed(
    claims: Claims,
    items,
    codes,
    pfi,
    emit,
    trees: Mapping,
    state: int | None,
    who: int = WORKER,
    keep: dict | None = None,
) -> None:
    """The loop of every process: the files in ``state`` (their trees are in ``trees``), then
    the files nobody has (their trees go to ``keep`` when given); ``emit((i, diagnostics, ok))``."""
    from mfx.engine.lint import lint_parsed, lint_text

    while state is not None and (i := claims.next_tree(who, state)) is not None:
        relpath, text = items[i]
        pf = trees.get(relpath)
        emit((i, *((lint_parsed(pf, codes, pfi), True) if pf is not None else lint_text(relpath, text, codes, pfi))))
    while (i := claims.next(who)) is not None:
        relpath, text = items[i]
        emit((i, *lint_text(relpath, text, codes, pfi, keep)))


def _fresh_worker(claims: Claims, items, codes, pfi, results, project_part=None) -> None:
    """Step 1: files nobody has, parsed here; the first worker runs ``project_part`` before,
    then lints the files it parsed for it."""
    try:
        trees: Mapping = {}
        if project_part is not None:
            position = {relpath: i for i, (relpath, _) in enumerate(items)}
            diagnostics, trees = project_part(
                lambda relpath: relpath in position and claims.claim(position[relpath], HELPER_TREE)
            )
            results.put(("project", diagnostics))
        lint_claimed(claims, items, codes, pfi, results.put, trees, HELPER_TREE if project_part is not None else None)
    finally:
        results.put(None)  # this worker is done (its queue's feeder thread flushes on exit)


def _tree_worker(claims: Claims, items, codes, pfi, results, trees: Mapping) -> None:
    """Step 3: the files whose trees were inherited, then any file nobody has."""
    try:
        lint_claimed(claims, items, codes, pfi, results.put, trees, PARENT_TREE)
    finally:
        results.put(None)


class ClaimPool:
    """The workers of one run over ``items`` (sorted biggest first by the caller)."""

    def __init__(
        self,
        items: Sequence[tuple[str, str]],
        jobs: int,
        codes: tuple[str, ...],
        pfi: PerFileIgnores,
        project_part: Callable | None = None,
    ) -> None:
        """``project_part(claim)`` (run by the first worker where fork is available) returns
        ``(diagnostics, {relpath: parsed file})``; ``claim(relpath)`` claims a file it parses."""
        self.ctx = _context()
        self.items = items
        self.jobs = jobs
        self.codes, self.pfi = codes, pfi
        self.position = {relpath: i for i, (relpath, _) in enumerate(items)}
        self.claims = Claims(len(items), self.ctx)
        self.results = self.ctx.Queue()
        self.workers: list = []
        self.helper_running = project_part is not None and self.ctx.get_start_method() == "fork"
        #: the diagnostics of ``project_part``, once the first worker has sent them
        self.helper_project: list | None = None
        self._start(_fresh_worker, (project_part,) if self.helper_running else (), self.ctx, first_only=True)
        self._start(_fresh_worker, (), self.ctx, skip_first=True)

    def _start(self, target, extra: tuple, ctx, first_only: bool = False, skip_first: bool = False) -> None:
        count = max(1, self.jobs - 1)
        for k in range(count):
            if (first_only and k > 0) or (skip_first and k == 0):
                continue
            w = ctx.Process(
                target=target, args=(self.claims, self.items, self.codes, self.pfi, self.results, *extra), daemon=True
            )
            w.start()
            self.workers.append(w)

    # -- this process ------------------------------------------------------------------------
    def claim_for_here(self, relpath: str) -> bool:
        """Claim a file whose tree this process is building (for the project rules)."""
        i = self.position.get(relpath)
        return i is not None and self.claims.claim(i, PARENT_TREE)

    def share_trees(self, trees: Mapping) -> bool:
        """Step 3: fork workers that inherit ``trees``; False where fork is unavailable."""
        if not self.claims.owned_by(PARENT_TREE):
            return True
        if self.ctx.get_start_method() != "fork":
            return False
        self._start(_tree_worker, (trees,), self.ctx)
        return True

    def lint_here(self, trees: dict) -> Iterator[tuple[str, list, bool]]:
        """This process's share: the files whose trees it built (in ``trees``), then the files
        nobody has (their trees added to ``trees``); ``(relpath, diagnostics, ok)`` each."""
        done: list = []
        lint_claimed(self.claims, self.items, self.codes, self.pfi, done.append, trees, PARENT_TREE, PARENT, keep=trees)
        return ((self.items[i][0], found, ok) for i, found, ok in done)

    def worker_results(self) -> Iterator[tuple[str, list | None, bool | None]]:
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
            if got[0] == "project":
                self.helper_project = got[1]
                continue
            i, diagnostics, ok = got
            answered.add(i)
            yield self.items[i][0], diagnostics, ok
        for w in self.workers:
            w.join(timeout=5)
            if w.is_alive():  # pragma: no cover - a worker stuck after its last answer
                w.kill()
        for i in self.claims.owned_by(WORKER) + self.claims.owned_by(HELPER_TREE):
            if i not in answered:
                yield self.items[i][0], None, None
        self.results.close()


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


__all__ = ["ClaimPool", "Claims", "cpu_count", "NOBODY", "WORKER", "PARENT", "PARENT_TREE", "HELPER_TREE"]
