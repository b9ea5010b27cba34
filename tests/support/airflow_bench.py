"""Measurement helpers of the Airflow bench (benchmarks/airflow/bench_airflow.py), kept here so the
parts that interpret data (process roles, memory sums, task-instance timings) have fast tests
(tests/presets/airflow/test_airflow_bench_support.py).

Memory: the scheduler forks its LocalExecutor workers, and each worker forks a task supervisor
per task, so their resident pages are largely shared; summing RSS counts those pages once per
process. PSS (proportional set size, /proc/<pid>/smaps_rollup) divides each shared page among
the processes mapping it, so PSS sums to the memory the devstack really holds. Both are reported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

# Roles, in the order they are reported.
ROLES = ("supervisor", "api-server", "scheduler", "dag-processor", "executor-workers", "task-supervisors",
         "metaflow-tasks", "other")


def role_of_cmdline(cmdline: str) -> Optional[str]:
    """The devstack role a command line names by itself, or None (decided by its ancestors).

    Airflow 3 renames its processes (setproctitle): ``airflow api_server -- host:...``,
    ``airflow worker -- LocalExecutor: <idle>`` (an executor worker, forked by the scheduler),
    ``airflow worker -- <task instance uuid>`` (the task supervisor of one task, forked by an
    executor worker); the scheduler and dag-processor keep ``.../bin/airflow scheduler``.
    """
    text = cmdline.replace("_", "-")
    words = text.split()
    if "airflow" not in text:
        return None
    if "api-server" in words or "api-server" in text.split(" -- ")[0]:
        return "api-server"
    if "LocalExecutor" in text:
        return "executor-workers"
    if re.search(r"\bairflow worker\b", text):
        return "task-supervisors"
    if "dag-processor" in words:
        return "dag-processor"
    if "scheduler" in words:
        return "scheduler"
    return None


def classify(leader: int, parents: Mapping[int, int], cmdlines: Mapping[int, str]) -> Dict[int, str]:
    """Role of the leader and of every process under it (pid -> role).

    A process whose command line names no role takes one from its ancestors: under a task
    supervisor it is a Metaflow task process (the task entry point and the step it runs), under
    anything else "other".
    """
    children: Dict[int, List[int]] = {}
    for pid, ppid in parents.items():
        if pid != ppid:
            children.setdefault(ppid, []).append(pid)
    roles: Dict[int, str] = {leader: "supervisor"}
    todo: List[Tuple[int, str]] = [(c, "supervisor") for c in sorted(children.get(leader, []))]
    while todo:
        pid, parent_role = todo.pop()
        if pid in roles:
            continue
        own = role_of_cmdline(cmdlines.get(pid, ""))
        if own is None:
            own = "metaflow-tasks" if parent_role in ("task-supervisors", "metaflow-tasks") else "other"
        roles[pid] = own
        todo.extend((c, own) for c in sorted(children.get(pid, [])))
    return roles


def memory_kib(status_text: str, rollup_text: str) -> Tuple[int, int]:
    """(RSS, PSS) in KiB from /proc/<pid>/status and /proc/<pid>/smaps_rollup; PSS falls back to RSS."""
    rss = _field(status_text, "VmRSS")
    pss = _field(rollup_text, "Pss")
    return rss or 0, pss if pss is not None else (rss or 0)


def _field(text: str, name: str) -> Optional[int]:
    match = re.search(r"^%s:\s+(\d+)\s*kB" % re.escape(name), text or "", re.MULTILINE)
    return int(match.group(1)) if match else None


def by_role(roles: Mapping[int, str], memory: Mapping[int, Tuple[int, int]]) -> Dict[str, Dict[str, float]]:
    """MiB and process count per role: {role: {"rss": .., "pss": .., "processes": n}} (roles with processes only)."""
    out: Dict[str, Dict[str, float]] = {}
    for pid, role in roles.items():
        if pid not in memory:
            continue  # gone between listing and reading
        rss, pss = memory[pid]
        entry = out.setdefault(role, {"rss": 0.0, "pss": 0.0, "processes": 0})
        entry["rss"] += rss / 1024.0
        entry["pss"] += pss / 1024.0
        entry["processes"] += 1
    return {role: {k: (round(v, 1) if k != "processes" else v) for k, v in out[role].items()} for role in ROLES if role in out}


def read_proc(pid: int, proc: Path = Path("/proc")) -> Optional[Tuple[str, Tuple[int, int]]]:
    """(command line, (RSS, PSS) KiB) of a live process; None when it is gone or a zombie (no memory)."""
    base = proc / str(pid)
    try:
        cmdline = " ".join(w.decode(errors="replace") for w in (base / "cmdline").read_bytes().split(b"\0") if w)
        status = (base / "status").read_text()
    except OSError:
        return None
    if _field(status, "VmRSS") is None:  # a zombie not reaped yet (or a kernel thread): holds no memory
        return None
    try:
        rollup = (base / "smaps_rollup").read_text()
    except OSError:
        rollup = ""
    return cmdline, memory_kib(status, rollup)


def snapshot(leader: int, table: Callable[[], Dict[int, int]], proc: Path = Path("/proc")) -> Dict[str, Dict[str, float]]:
    """Memory per role of the process tree under ``leader`` now."""
    parents = table()
    under = _subtree(leader, parents)
    cmdlines: Dict[int, str] = {}
    memory: Dict[int, Tuple[int, int]] = {}
    for pid in under:
        read = read_proc(pid, proc)
        if read is not None:
            cmdlines[pid], memory[pid] = read
    roles = classify(leader, {p: parents[p] for p in under if p in parents}, cmdlines)
    return by_role(roles, memory)


def _subtree(root: int, parents: Mapping[int, int]) -> List[int]:
    children: Dict[int, List[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [root], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


class Peaks:
    """Idle and peak memory per role over many snapshots (peak of each role and of the total, separately)."""

    def __init__(self) -> None:
        self.peak: Dict[str, Dict[str, float]] = {}
        self.total_peak = {"rss": 0.0, "pss": 0.0}
        self.samples = 0

    def add(self, snap: Mapping[str, Mapping[str, float]]) -> None:
        self.samples += 1
        for role, values in snap.items():
            entry = self.peak.setdefault(role, {"rss": 0.0, "pss": 0.0, "processes": 0})
            for key in entry:
                entry[key] = max(entry[key], values.get(key, 0))
        for key in ("rss", "pss"):
            self.total_peak[key] = max(self.total_peak[key], round(sum(v.get(key, 0.0) for v in snap.values()), 1))


def totals(snap: Mapping[str, Mapping[str, float]]) -> Dict[str, float]:
    return {key: round(sum(v.get(key, 0.0) for v in snap.values()), 1) for key in ("rss", "pss", "processes")}


def span_seconds(intervals: Iterable[Tuple[Optional[float], Optional[float]]]) -> Dict[str, Optional[float]]:
    """Task-instance timing summary: count, mean duration, and the sum of gaps in which none ran.

    ``intervals`` are (start, end) epoch seconds; incomplete ones are ignored. The idle gaps between
    the first start and the last end are time the DAG run spent in scheduling alone.
    """
    done = sorted((s, e) for s, e in intervals if s is not None and e is not None and e >= s)
    if not done:
        return {"tasks": 0, "mean_s": None, "busy_s": None, "idle_gaps_s": None}
    busy, idle = 0.0, 0.0
    cur_start, cur_end = done[0]
    for start, end in done[1:]:
        if start > cur_end:
            busy += cur_end - cur_start
            idle += start - cur_end
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    busy += cur_end - cur_start
    return {"tasks": len(done), "mean_s": round(sum(e - s for s, e in done) / len(done), 2),
            "busy_s": round(busy, 2), "idle_gaps_s": round(idle, 2)}


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return round(numerator / denominator, 2) if numerator and denominator else None


def median(values: Sequence[float]) -> Optional[float]:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
