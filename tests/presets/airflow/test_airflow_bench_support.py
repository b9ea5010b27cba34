"""Fast tests of the Airflow bench's interpretation of data (tests/support/airflow_bench.py): process
roles from Airflow 3's process titles, RSS/PSS from /proc texts, per-role sums and peaks, the
idle gaps between task instances. No Airflow runs; a fake /proc tree stands in for the machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.airflow_bench import (
    Peaks,
    by_role,
    classify,
    memory_kib,
    ratio,
    role_of_cmdline,
    snapshot,
    span_seconds,
    totals,
)

VENV = "/cache/airflow-3.3.2-py311/bin"
# pid -> (ppid, command line) of a devstack running one Metaflow task, as `ps` shows Airflow 3.3
TREE = {
    100: (1, "/venv/bin/python /p/devstack/airflow_stack.py serve --state-dir /p/.devstack --port 4000"),
    101: (100, "airflow api_server -- host:127.0.0.1 port:4000"),
    102: (100, "%s/python %s/airflow scheduler --skip-serve-logs" % (VENV, VENV)),
    103: (100, "%s/python %s/airflow dag-processor" % (VENV, VENV)),
    110: (102, "airflow worker -- LocalExecutor: <idle>"),
    111: (102, "airflow worker -- LocalExecutor: 01a25118-8480-70c9-abb3-0cc9f7b7b6fe"),
    120: (111, "airflow worker -- 01a25118-8480-70c9-abb3-0cc9f7b7b6fe"),
    130: (120, "/repo/.venv/bin/python -m metaflow_extensions.mf_airflow.plugins.mf_airflow.orchestrator.task_entry --step start"),
    131: (130, "/repo/.venv/bin/python /flows/foreach_flow.py --quiet step start --run-id airflow-1"),
    140: (100, "/bin/sh -c sleep 1"),
    141: (110, ""),  # a task supervisor exited, not reaped yet (zombie): no VmRSS, not counted
    150: (1, "airflow worker -- LocalExecutor: <idle>"),  # another devstack's worker: not ours
}


def _write_proc(root: Path, pid: int, cmdline: str, rss: int | None, pss: int | None) -> None:
    d = root / str(pid)
    d.mkdir(parents=True)
    (d / "cmdline").write_bytes(b"\0".join(w.encode() for w in cmdline.split()) + b"\0" if cmdline else b"")
    if rss is None:  # what a zombie's status looks like: no Vm* lines
        (d / "status").write_text("Name:\tairflow worker\nState:\tZ (zombie)\nThreads:\t1\n")
        return
    (d / "status").write_text("Name:\tpython\nVmPeak:\t  999999 kB\nVmRSS:\t  %d kB\nThreads:\t3\n" % rss)
    if pss is not None:
        (d / "smaps_rollup").write_text("00400000-ffffffff ---p 00000000 00:00 0  [rollup]\nRss:  %d kB\nPss:  %d kB\nPss_Anon:  1 kB\n" % (rss, pss))


@pytest.mark.parametrize(
    "cmdline, role",
    [
        ("airflow api_server -- host:127.0.0.1 port:4000", "api-server"),
        ("/v/bin/python /v/bin/airflow api-server --port 4000", "api-server"),
        ("/v/bin/python /v/bin/airflow scheduler --skip-serve-logs", "scheduler"),
        ("/v/bin/python /v/bin/airflow dag-processor", "dag-processor"),
        ("/v/bin/python /v/bin/airflow dag_processor", "dag-processor"),
        ("airflow worker -- LocalExecutor: <idle>", "executor-workers"),
        ("airflow worker -- LocalExecutor: 01a2-uuid", "executor-workers"),
        ("airflow worker -- 01a25118-8480-70c9-abb3-0cc9f7b7b6fe", "task-supervisors"),
        ("/repo/.venv/bin/python -m ext.task_entry --step scheduler", None),  # a step named like a role
        ("/repo/.venv/bin/python flows/airflow_scheduler_flow.py step start", None),
        ("", None),
    ],
)
def test_role_of_cmdline(cmdline: str, role: str | None) -> None:
    assert role_of_cmdline(cmdline) == role


def test_classify_takes_roles_from_titles_and_ancestors() -> None:
    parents = {pid: ppid for pid, (ppid, _) in TREE.items()}
    cmdlines = {pid: cmd for pid, (_, cmd) in TREE.items()}
    roles = classify(100, parents, cmdlines)
    assert roles == {
        100: "supervisor", 101: "api-server", 102: "scheduler", 103: "dag-processor",
        110: "executor-workers", 111: "executor-workers", 120: "task-supervisors",
        130: "metaflow-tasks", 131: "metaflow-tasks", 140: "other", 141: "other",
    }


def test_classify_survives_a_cycle_and_a_missing_cmdline() -> None:
    # the leader listed as a child of its own descendant (pids reused while listing): no endless loop
    roles = classify(1, {1: 3000, 2: 1, 3: 2, 2000: 3, 3000: 2000}, {2: "airflow worker -- abc"})
    assert roles == {1: "supervisor", 2: "task-supervisors", 3: "metaflow-tasks", 2000: "metaflow-tasks", 3000: "metaflow-tasks"}
    assert classify(1, {1: 1}, {}) == {1: "supervisor"}


def test_memory_kib_prefers_pss_and_falls_back_to_rss() -> None:
    status = "Name:\tx\nVmHWM:\t  5000 kB\nVmRSS:\t  4000 kB\nRssAnon:\t 3000 kB\n"
    assert memory_kib(status, "Rss:  4000 kB\nPss:  1500 kB\nPss_Anon:  900 kB\n") == (4000, 1500)
    assert memory_kib(status, "") == (4000, 4000)  # no smaps_rollup (old kernel): PSS = RSS
    assert memory_kib("Name:\tkthread\n", "") == (0, 0)  # kernel threads have no VmRSS


def test_snapshot_sums_per_role_over_a_fake_proc(tmp_path: Path) -> None:
    memory = {100: (20000, 10000), 101: (280000, 250000), 102: (160000, 100000), 103: (170000, 140000),
              110: (130000, 40000), 111: (140000, 50000), 120: (140000, 60000), 130: (40000, 35000), 131: (45000, None),
              140: (1000, 500), 141: (None, None), 150: (130000, 40000)}
    for pid, (_ppid, cmd) in TREE.items():
        rss, pss = memory[pid]
        _write_proc(tmp_path, pid, cmd, rss, pss)
    parents = {pid: ppid for pid, (ppid, _) in TREE.items()}
    parents[999] = 102  # listed, then gone before it was read: skipped
    snap = snapshot(100, lambda: dict(parents), proc=tmp_path)
    assert snap["executor-workers"] == {"rss": round(270000 / 1024, 1), "pss": round(90000 / 1024, 1), "processes": 2}
    assert snap["metaflow-tasks"] == {"rss": round(85000 / 1024, 1), "pss": round(80000 / 1024, 1), "processes": 2}
    assert list(snap) == ["supervisor", "api-server", "scheduler", "dag-processor", "executor-workers", "task-supervisors",
                          "metaflow-tasks", "other"]
    assert totals(snap)["processes"] == 10  # 141 is a zombie, 150 another devstack's
    assert totals(snap)["rss"] == pytest.approx(sum(m[0] for p, m in memory.items() if p not in (141, 150)) / 1024, abs=0.5)


def test_by_role_and_peaks_keep_each_maximum() -> None:
    idle = by_role({1: "scheduler", 2: "executor-workers"}, {1: (1024, 512), 2: (2048, 1024)})
    busy = by_role({1: "scheduler", 2: "executor-workers", 3: "executor-workers", 4: "metaflow-tasks"},
                   {1: (1024, 512), 2: (4096, 1024), 3: (4096, 2048), 4: (10240, 10240)})
    later = by_role({1: "scheduler"}, {1: (3072, 3072)})
    peaks = Peaks()
    for snap in (idle, busy, later):
        peaks.add(snap)
    assert peaks.peak["scheduler"] == {"rss": 3.0, "pss": 3.0, "processes": 1}
    assert peaks.peak["executor-workers"] == {"rss": 8.0, "pss": 3.0, "processes": 2}
    assert peaks.peak["metaflow-tasks"]["rss"] == 10.0
    assert peaks.total_peak == {"rss": 19.0, "pss": 13.5}  # the busy snapshot, not the sum of role peaks (16)
    assert peaks.samples == 3


def test_span_seconds_counts_gaps_only_where_nothing_ran() -> None:
    # start 0-10; three mapped tasks overlapping 12-20, 13-19, 14-21; join 23-25; an unfinished one
    spans = span_seconds([(0, 10), (12, 20), (13, 19), (14, 21), (23, 25), (30, None), (None, 40)])
    assert spans == {"tasks": 5, "mean_s": round((10 + 8 + 6 + 7 + 2) / 5, 2), "busy_s": 10 + 9 + 2, "idle_gaps_s": 2 + 2}
    assert span_seconds([])["tasks"] == 0 and span_seconds([])["idle_gaps_s"] is None
    assert span_seconds([(5, 4)])["tasks"] == 0  # clock skew: an end before its start is ignored


def test_ratio_is_none_without_both_numbers() -> None:
    assert ratio(10.0, 4.0) == 2.5
    assert ratio(None, 4.0) is None and ratio(3.0, 0.0) is None and ratio(3.0, None) is None
