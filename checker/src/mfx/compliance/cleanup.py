"""What the extension under test leaves behind: processes still running, files in the working directory.

At the start of a session the suite takes a :class:`Snapshot` (the processes descending from it,
the files under the CWD); at the end, after the devstack is down, whatever is new is a leftover:

* processes are stopped (SIGTERM to each, SIGKILL after a grace period) and reported one line each;
* files are reported, never deleted (they are in the user's directory).

Processes are found two ways (Linux ``/proc``; elsewhere the check is skipped): the descendants of
the suite's process, and every process whose environment carries the session's marker
(:data:`MARKER_VAR`, exported at the start of the session and inherited by everything the
extension spawns), so a worker the extension daemonised (double fork, ``setsid``: re-parented to
init) is still found.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Set

PROC = Path("/proc")
MARKER_VAR = "MFX_COMPLIANCE_SESSION"
SKIP_DIRS = frozenset({".git", ".venv", "venv", ".nox", ".tox", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})
MAX_FILES = 20000  # a CWD bigger than this (a home directory...) is not watched
GRACE_S = 5.0


def _stat(pid: int) -> Optional[tuple]:
    """(ppid, state) of ``pid`` from /proc, or None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses
    rest = raw[raw.rfind(")") + 2:].split()
    return int(rest[1]), rest[0]


def _cmdline(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:200] or "?"


def descendants(root: Optional[int] = None) -> Dict[int, str]:
    """Live (non-zombie) processes below ``root`` (default: this process): pid -> command line."""
    root = os.getpid() if root is None else root
    if not PROC.is_dir():
        return {}
    children: Dict[int, List[int]] = {}
    states: Dict[int, str] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        info = _stat(int(entry.name))
        if info is None:
            continue
        children.setdefault(info[0], []).append(int(entry.name))
        states[int(entry.name)] = info[1]
    found: Dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        todo.extend(children.get(pid, []))
        if states.get(pid) not in ("Z", "X"):
            found[pid] = _cmdline(pid)
    return found


def marked(token: str) -> Dict[int, str]:
    """Live processes (other than this one) whose environment holds ``MARKER_VAR=token``."""
    needle = f"{MARKER_VAR}={token}".encode()
    found: Dict[int, str] = {}
    if not PROC.is_dir():
        return found
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's process
            continue
        if needle in environ.split(b"\0"):
            info = _stat(int(entry.name))
            if info is not None and info[1] not in ("Z", "X"):
                found[int(entry.name)] = _cmdline(int(entry.name))
    return found


def files_under(directory: Path, limit: int = MAX_FILES) -> Optional[FrozenSet[str]]:
    """Relative paths of the files under ``directory`` (None when there are more than ``limit``)."""
    found: Set[str] = set()
    for base, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in names:
            found.add(os.path.relpath(os.path.join(base, name), directory))
            if len(found) > limit:
                return None
    return frozenset(found)


@dataclass
class Snapshot:
    """Processes and CWD files before the session."""

    cwd: Path
    pids: FrozenSet[int]
    files: Optional[FrozenSet[str]]
    token: str = ""
    previous_marker: Optional[str] = None

    @classmethod
    def take(cls) -> "Snapshot":
        """Snapshot now and export the session marker (:meth:`release` restores the environment)."""
        import uuid

        cwd = Path.cwd()
        token = uuid.uuid4().hex
        snap = cls(cwd, frozenset(descendants()), files_under(cwd), token, os.environ.get(MARKER_VAR))
        os.environ[MARKER_VAR] = token
        return snap

    def release(self) -> None:
        if os.environ.get(MARKER_VAR) != self.token:
            return
        if self.previous_marker is None:
            os.environ.pop(MARKER_VAR, None)
        else:
            os.environ[MARKER_VAR] = self.previous_marker


@dataclass
class Leftovers:
    """What :func:`collect` found and did; ``lines()`` is the report."""

    stopped: Dict[int, str] = field(default_factory=dict)
    survived: Dict[int, str] = field(default_factory=dict)  # would not stop even after SIGKILL
    files: List[str] = field(default_factory=list)
    cwd: Optional[Path] = None
    beside_flows: List[str] = field(default_factory=list)  # files written next to the suite's flow files

    def lines(self, limit: int = 20) -> List[str]:
        out = []
        if self.beside_flows:
            out.append(
                f"the extension wrote {len(self.beside_flows)} file(s) next to the flow files it deployed "
                "(the suite runs a private copy of its flows, deleted at the end; a user's flow directory would keep them):"
            )
            out += [f"  {name}" for name in self.beside_flows[:limit]]
        if self.stopped:
            out.append(f"stopped {len(self.stopped)} process(es) the extension left running after the session:")
            out += [f"  pid {pid}: {cmd}" for pid, cmd in sorted(self.stopped.items())[:limit]]
        if self.survived:
            out.append(f"{len(self.survived)} leftover process(es) did not stop (kill them yourself):")
            out += [f"  pid {pid}: {cmd}" for pid, cmd in sorted(self.survived.items())[:limit]]
        if self.files:
            out.append(f"the session wrote {len(self.files)} file(s) into the working directory {self.cwd} (not deleted):")
            out += [f"  {name}" for name in self.files[:limit]]
            if len(self.files) > limit:
                out.append(f"  ... and {len(self.files) - limit} more")
        return out


def _alive(pid: int) -> bool:
    """Running (a zombie has stopped; it is never reaped here: its Popen, if any, keeps its exit status)."""
    info = _stat(pid)
    return info is not None and info[1] not in ("Z", "X")


def stop(pids: Iterable[int], grace: float = GRACE_S) -> Set[int]:
    """SIGTERM each pid, SIGKILL what is left after ``grace`` seconds; returns the pids still alive."""
    pids = set(pids)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        for pid in [p for p in pids if _alive(p)]:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
    return {p for p in pids if _alive(p)}


def collect(before: Snapshot, ignore_files: Iterable[Path] = (), grace: float = GRACE_S) -> Leftovers:
    """Stop the processes that appeared since ``before`` and list the new CWD files (minus ``ignore_files``)."""
    result = Leftovers(cwd=before.cwd)
    candidates = {**descendants(), **(marked(before.token) if before.token else {})}
    new = {pid: cmd for pid, cmd in candidates.items() if pid not in before.pids}
    if new:
        survived = stop(new, grace)
        result.stopped = {p: c for p, c in new.items() if p not in survived}
        result.survived = {p: c for p, c in new.items() if p in survived}
    if before.files is not None:
        now = files_under(before.cwd) or frozenset()
        ignored = set()
        for path in ignore_files:
            try:
                ignored.add(os.path.relpath(Path(path).resolve(), before.cwd.resolve()))
            except ValueError:  # another drive (Windows)
                pass
        result.files = sorted(
            name for name in now - before.files
            if name not in ignored and not any(name.startswith(i.rstrip(os.sep) + os.sep) for i in ignored)
        )
    return result


# The suite's flows are deployed from a private copy (one per process), never from the installed
# package: an extension that writes next to the flow file (a generated DAG, a compiled spec) would
# otherwise write into site-packages or, with an editable install, into the checkout of mfx.
_FLOWS_LOCK = threading.Lock()
_FLOWS_COPY: Dict[str, Path] = {}
FLOWS_SOURCE = Path(__file__).resolve().parent / "flows"


def flows_dir(source: Path = FLOWS_SOURCE) -> Path:
    """The private copy of ``source`` (made on first use, removed by :func:`written_beside_flows`)."""
    key = str(source)
    with _FLOWS_LOCK:
        if key not in _FLOWS_COPY or not _FLOWS_COPY[key].is_dir():
            target = Path(tempfile.mkdtemp(prefix="mfx-flows-")) / source.name
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            _FLOWS_COPY[key] = target
            atexit.register(shutil.rmtree, target.parent, True)  # a session that never reports still cleans up
        return _FLOWS_COPY[key]


def written_beside_flows(source: Path = FLOWS_SOURCE, remove: bool = True) -> List[str]:
    """Files in the private copy that the package does not have (what the extension wrote there);
    the copy is removed afterwards (``remove``)."""
    with _FLOWS_LOCK:
        copy = _FLOWS_COPY.pop(str(source), None) if remove else _FLOWS_COPY.get(str(source))
    if copy is None or not copy.is_dir():
        return []
    ignore = {"__pycache__"}
    theirs = {n for n in (files_under(copy) or frozenset()) if not (set(Path(n).parts) & ignore) and not n.endswith(".pyc")}
    ours = files_under(source) or frozenset()
    new = sorted(theirs - ours)
    if remove:
        shutil.rmtree(copy.parent, ignore_errors=True)
    return new
