"""Benchmark of the Airflow 3 preset's devstack: install, start, DAG-parse wait, trigger to
success, memory.

Assembles the preset's no-Docker devstack (tests/support/airflow_devstack.py), then measures:
- install: the cached venv (what every start after the first pays), a fresh venv with uv's cache
  warm (what a new machine with a warm uv cache pays), and with `--cold` a fresh venv with an
  empty uv cache (downloads everything);
- start to healthy: `python devstack/run.py up` wall time with the venv cached;
- DAG-parse wait: a DAG file written to the DAGs folder until the REST API knows it;
- trigger to success: one trivial BashOperator DAG, triggered through the REST API;
- memory: RSS summed over the supervisor and every process under it (api-server, scheduler and
  its LocalExecutor workers, dag-processor), idle after start and after the runs;
- stop: `run.py down` wall time.
Writes airflow.json and airflow.md.

    python benchmarks/airflow/bench_airflow.py --out reports/bench [--cold] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from support.airflow_devstack import Devstack, assemble_project, client_module, rss_kib, stack_module  # noqa: E402

TRIVIAL_DAG = '''\
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG({dag_id!r}, start_date=pendulum.datetime(2026, 1, 1), schedule=None, catchup=False, tags=["mfx-bench"]) as dag:
    BashOperator(task_id="hello", bash_command="echo hello")
'''


def timed_install(venv: Path, env_overrides: Dict[str, str]) -> float:
    stack = stack_module()
    saved = {k: os.environ.get(k) for k in env_overrides}
    os.environ.update(env_overrides)
    try:
        started = time.monotonic()
        stack.ensure_venv(venv, log=sys.stderr)
        return time.monotonic() - started
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def component_rss(stack: Devstack) -> Dict[str, float]:
    """MiB per component: each top-level child of the supervisor with everything under it."""
    module = stack_module()
    leader = stack.leader()
    out: Dict[str, float] = {"supervisor": rss_kib(leader) / 1024.0}
    table = module.process_table()
    for pid, ppid in table.items():
        if ppid != leader:
            continue
        try:
            cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
        except OSError:
            continue
        text = " ".join(w.decode(errors="replace") for w in cmdline if w).replace("_", "-")
        name = next((c for c in ("api-server", "scheduler", "dag-processor") if c in text), text or str(pid))
        out[name] = sum(rss_kib(p) for p in [pid, *module.descendants(pid)]) / 1024.0
    return {k: round(v, 1) for k, v in out.items()}


def start_phases(log: Path) -> Dict[str, float]:
    """The supervisor's own timings of `up`: migration, components healthy, execution API built."""
    phases = {"db_migrate": r"database migrated in ([\d.]+) s", "components_healthy": r"components healthy in ([\d.]+) s",
              "execution_api_warm_up": r"execution API ready in ([\d.]+) s"}
    text = log.read_text(errors="replace") if log.exists() else ""
    found = {name: re.search(pattern, text) for name, pattern in phases.items()}
    return {name: float(match.group(1)) for name, match in found.items() if match}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--cold", action="store_true", help="also install with an empty uv cache (downloads ~100 MB)")
    parser.add_argument("--repeat", type=int, default=3, help="DAG parses and runs to time (median reported)")
    args, _ = parser.parse_known_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    stack_mod = stack_module()
    client_mod = client_module()
    result: Dict[str, object] = {"airflow_version": stack_mod.AIRFLOW_VERSION, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="mfx-bench-airflow-") as tmp:
        base = Path(tmp)
        install: Dict[str, float] = {}
        cached_venv = stack_mod.default_venv()
        first = timed_install(cached_venv, {})
        install["cached_venv_s"] = round(timed_install(cached_venv, {}), 2)
        if first > 5:  # this run created the machine's venv
            install["first_install_s"] = round(first, 1)
        install["fresh_venv_warm_uv_cache_s"] = round(timed_install(base / "venv-warm", {}), 1)
        if args.cold:
            install["fresh_venv_cold_uv_cache_s"] = round(
                timed_install(base / "venv-cold", {"UV_CACHE_DIR": str(base / "uv-cache")}), 1)
        result["install"] = install

        stack = Devstack(assemble_project(base / "project"))
        started = time.monotonic()
        try:
            stack.up()
            result["start_to_healthy_s"] = round(time.monotonic() - started, 1)
            result["start_phases_s"] = start_phases(stack.state / "airflow.log")
            time.sleep(5)
            result["rss_idle_mib"] = round(stack.rss_mib(), 1)
            result["rss_idle_by_component_mib"] = component_rss(stack)
            result["processes_idle"] = len(stack.processes())
            client = stack.client()
            parses: List[float] = []
            runs: List[float] = []
            peak = 0.0
            for _ in range(args.repeat):
                dag_id = "mfx_bench_%s" % uuid.uuid4().hex[:8]
                written = client_mod.write_dag_file(stack.dags_folder(), dag_id + ".py", TRIVIAL_DAG.format(dag_id=dag_id))
                t0 = time.monotonic()
                client.wait_for_dag(dag_id, dag_id + ".py", since=written, timeout=300, poll=0.25)
                parses.append(time.monotonic() - t0)
                client.set_paused(dag_id, False)
                t0 = time.monotonic()
                run_id = client.trigger(dag_id, "airflow-%s" % uuid.uuid4().hex[:12]).run_id
                run = None
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    run = client.get_run(dag_id, run_id)
                    peak = max(peak, stack.rss_mib())
                    if run.finished:
                        break
                    time.sleep(0.25)
                if run is None or run.state != "success":
                    raise RuntimeError("the trivial DAG did not succeed: %s" % run)
                runs.append(time.monotonic() - t0)
            result["dag_parse_wait_s"] = {"median": round(statistics.median(parses), 2), "all": [round(p, 2) for p in parses]}
            result["trigger_to_success_s"] = {"median": round(statistics.median(runs), 2), "all": [round(r, 2) for r in runs]}
            result["rss_peak_during_runs_mib"] = round(peak, 1)
            result["rss_after_runs_mib"] = round(stack.rss_mib(), 1)
        finally:
            t0 = time.monotonic()
            stack.down()
            result["stop_s"] = round(time.monotonic() - t0, 1)
    (out / "airflow.json").write_text(json.dumps(result, indent=2))
    lines = [
        "# Airflow 3 devstack benchmark (preset orchestrator-airflow, Airflow %s, %s CPUs)" % (result["airflow_version"], result["cpus"]),
        "",
        "| measure | value |",
        "|---|---|",
        *("| install: %s | %s s |" % (k[:-2].replace("_", " "), v) for k, v in install.items()),
        "| start to healthy (`run.py up`, venv cached) | %s s |" % result.get("start_to_healthy_s"),
        "| of which | %s |" % ", ".join("%s %s s" % (k.replace("_", " "), v) for k, v in result["start_phases_s"].items()),
        "| DAG-parse wait (median of %d) | %s s |" % (args.repeat, result["dag_parse_wait_s"]["median"]),
        "| trigger to success, one BashOperator (median of %d) | %s s |" % (args.repeat, result["trigger_to_success_s"]["median"]),
        "| RSS idle, whole process tree (%d processes) | %s MiB |" % (result["processes_idle"], result["rss_idle_mib"]),
        "| RSS idle by component | %s |" % ", ".join("%s %s MiB" % kv for kv in result["rss_idle_by_component_mib"].items()),
        "| RSS peak during runs | %s MiB |" % result["rss_peak_during_runs_mib"],
        "| stop (`run.py down`) | %s s |" % result["stop_s"],
    ]
    (out / "airflow.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
