"""Live progress of the runs the suite executes in the background, so a long session never looks hung.

Runs are launched early (the orchestrator prefetch, the backend's shared runs) and tests wait for
them later; for minutes pytest itself prints nothing. :class:`Progress` reads the state of every
run from the harness objects that own them (``sources``: callables returning :class:`RunRow`) and
shows it, with the test now waiting and what it waits for:

- on a terminal, one status line rewritten in place (at most once a second);
- otherwise (CI logs), a line per state change, at most one batch every ``interval`` seconds, plus
  a "still waiting" line every ``heartbeat`` seconds while nothing changes.

Only the main thread writes (waits call :meth:`Progress.tick` between polls), so the output never
interleaves with pytest's own; ``write`` is given by the plugin (the terminal reporter, with
pytest's capture suspended).
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, List, Optional

#: The states a run goes through, in order; "failed" may come from any of them.
STATES = ("queued", "triggered", "running", "finished", "failed")
ENDED = ("finished", "failed")


@dataclass(frozen=True)
class RunRow:
    """One run as its owner sees it now: ``since`` is when the current phase began (monotonic)."""

    key: str
    state: str
    since: float
    ended_after: Optional[float] = None  # seconds from start to end, once ended


def elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Collects run states from ``sources`` and renders them through ``write``."""

    def __init__(
        self,
        write: Callable[[str], None],
        tty: bool,
        *,
        width: int = 120,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 5.0,
        heartbeat: float = 60.0,
        begin_line: Optional[Callable[[], None]] = None,
    ) -> None:
        self.write = write
        self.tty = tty
        self.width = max(40, width)
        self.clock = clock
        self.interval = interval
        self.heartbeat = heartbeat
        self.begin_line = begin_line  # ends pytest's current line before ours (it re-writes its prefix after)
        self.sources: List[Callable[[], Iterable[RunRow]]] = []
        self.test = ""  # the test now running
        self.waiting: Optional[str] = None  # what it waits for
        self.started = clock()
        self._printed: Dict[str, str] = {}  # key -> state last written (line mode)
        self._pending: Dict[str, RunRow] = {}
        self._last_write = -1e9
        self._printed_wait: Optional[tuple] = None
        self._line_shown = False

    def add_source(self, source: Callable[[], Iterable[RunRow]]) -> None:
        self.sources.append(source)

    def rows(self) -> List[RunRow]:
        out: List[RunRow] = []
        for source in self.sources:
            try:
                out.extend(source())
            except Exception:  # progress is a display: a source that breaks never breaks a test
                continue
        return out

    @contextmanager
    def waiting_for(self, what: str) -> Iterator[None]:
        """While the body runs, the current test is shown waiting for ``what`` (main thread only:
        background threads run the runs, the main thread is the one waiting)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous, self.waiting = self.waiting, what
        try:
            self.tick(force=True)
            yield
        finally:
            self.waiting = previous
            self.tick(force=True)
            if previous is None:
                self.clear()

    # -- rendering ---------------------------------------------------------------------------

    def _describe(self, row: RunRow, now: float) -> str:
        if row.state in ENDED and row.ended_after is not None:
            return f"{row.key} {row.state} ({elapsed(row.ended_after)})"
        return f"{row.key} {row.state} {elapsed(now - row.since)}"

    def status_line(self, rows: Optional[List[RunRow]] = None) -> str:
        """The TTY line: what the current test waits for, then the runs still in progress, then counts."""
        now = self.clock()
        rows = self.rows() if rows is None else rows
        active = [r for r in rows if r.state not in ENDED]
        ended = [r for r in rows if r.state in ENDED]
        head = f"mfx {elapsed(now - self.started)}"
        if self.waiting:
            head += f" | {self.test or 'setup'} waits for {self.waiting}"
        counts = ", ".join(f"{sum(1 for r in ended if r.state == s)} {s}" for s in ENDED if any(r.state == s for r in ended))
        parts = [head, *(self._describe(r, now) for r in sorted(active, key=lambda r: STATES.index(r.state) if r.state in STATES else 0, reverse=True))]
        line = " | ".join(parts) + (f" | {counts}" if counts else "")
        return line if len(line) <= self.width - 1 else line[: self.width - 2] + "…"

    def tick(self, force: bool = False) -> None:
        """Render if due; a no-op outside the main thread (only the waiting test writes)."""
        if threading.current_thread() is not threading.main_thread():
            return
        now = self.clock()
        rows = self.rows()
        if self.tty:
            if self.waiting is None or (not force and now - self._last_write < 1.0):
                return
            if not self._line_shown and self.begin_line is not None:
                self.begin_line()
            self.write("\r" + self.status_line(rows) + "\x1b[K")
            self._line_shown = True
            self._last_write = now
            return
        for row in rows:
            if self._printed.get(row.key) != row.state:
                self._pending[row.key] = row
        wait = (self.test, self.waiting) if self.waiting else None
        wait_changed = wait is not None and wait != self._printed_wait
        first = self._last_write < -1e8 and (self._pending or wait_changed)
        stamp = f"mfx progress {elapsed(now - self.started)}:"
        if (self._pending or wait_changed) and (first or now - self._last_write >= self.interval):
            lines = [f"{stamp} {self._describe(r, now)}" for r in self._pending.values()]
            if wait_changed:
                lines.append(f"{stamp} {self.test or 'setup'} waits for {self.waiting}")
                self._printed_wait = wait
            for row in self._pending.values():
                self._printed[row.key] = row.state
            self._pending.clear()
            self._write_lines(lines)
            self._last_write = now
        elif wait is not None and now - self._last_write >= self.heartbeat:
            active = [self._describe(r, now) for r in rows if r.state not in ENDED]
            self._write_lines([f"{stamp} still waiting: {self.test or 'setup'} waits for {self.waiting}" + (f"; in progress: {', '.join(active)}" if active else "")])
            self._last_write = now

    def _write_lines(self, lines: List[str]) -> None:
        if self.begin_line is not None:
            self.begin_line()  # never append to the line pytest is writing (its file name and dots)
        self.write("\n".join(lines) + "\n")

    def clear(self) -> None:
        """Remove the TTY status line (pytest writes next)."""
        if self.tty and self._line_shown and threading.current_thread() is threading.main_thread():
            self.write("\r\x1b[K")
            self._line_shown = False


def mode(isatty: bool) -> Optional[bool]:
    """True (status line), False (lines) or None (off), from ``MFX_PROGRESS`` (tty|lines|off) or the terminal."""
    setting = os.environ.get("MFX_PROGRESS", "").strip().lower()
    if setting in ("off", "0", "no"):
        return None
    if setting == "tty":
        return True
    if setting == "lines":
        return False
    return bool(isatty)


def tick(progress: Optional[Progress]) -> None:
    if progress is not None:
        progress.tick()


@contextmanager
def waiting_for(progress: Optional[Progress], what: str) -> Iterator[None]:
    if progress is None:
        yield
        return
    with progress.waiting_for(what):
        yield
