"""Benchmark of the Airflow 3 preset: devstack install and start, and Metaflow flows deployed on it.

Renders a `preset=airflow` repository (tests/support/generate.py), installs it into its own venv
and starts ITS devstack once (`python devstack/run.py up`), then measures:
- install of Airflow: the cached venv (what every start after the first pays), a fresh venv with
  uv's cache warm, and with `--cold` a fresh venv with an empty uv cache (downloads everything);
- start to healthy: `run.py up` wall time with the venv cached, and the supervisor's own phases;
- the bare engine: a trivial BashOperator DAG written to the DAGs folder until the REST API knows
  it (DAG-parse wait), and triggered until success (`--repeat` times, median);
- per flow (linear, foreach, branch/join, switch, parameters, a `--wide`-wide foreach), in the
  generated repo's venv (benchmarks/airflow/flows_driver.py): `Deployer(...).<engine>().create()`
  wall time, split at the moment the DAG file was written (before: Metaflow's CLI, the plan and the
  DAG document; after: the wait until Airflow has parsed it, plus unpausing), Airflow's own parse
  latency (file written -> the DAG's last_parsed_time), `trigger()`, trigger to the run finished
  (as Metaflow's client sees it), the run time from Metaflow metadata (init to last task end, as
  `mfx.compliance.bench` measures it) and the same flow once with Metaflow's local `Runner`:
  ratio orchestrated / local of the metadata run times and of the wall times (trigger to finished
  vs the Runner call); Airflow's task instances: mean duration and the idle gaps between them;
- memory per role (supervisor, api-server, scheduler, dag-processor, LocalExecutor workers, task
  supervisors, Metaflow task processes), RSS and PSS (forked workers share pages: PSS sums to what
  the devstack really holds; tests/support/airflow_bench.py), idle and peak during the runs;
- stop: `run.py down` wall time.
Writes airflow.json and airflow.md, with the date and the load average (compare runs as ratios);
recorded results: docs/benchmarks.md.

    python benchmarks/airflow/bench_airflow.py --out reports/bench [--cold] [--repeat 3] [--wide 16] [--flows linear,foreach]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from support.airflow_bench import ROLES, Peaks, median, ratio, snapshot, span_seconds, totals  # noqa: E402
from support.airflow_devstack import MODULE_NAME, Devstack, client_module, stack_module  # noqa: E402
from support.generate import make_venv, render  # noqa: E402
from support.temporal_scale import WIDE_FLOW  # noqa: E402

DRIVER = Path(__file__).with_name("flows_driver.py")
METHOD = MODULE_NAME  # Deployer(...).mf_airflow(): the engine name mf-airflow as a Python name
# flow name -> the compliance suite's run of it (flow file and parameters), or the wide foreach
FLOWS = {"linear": "linear", "foreach": "foreach", "branch": "branch", "switch": "switch", "params": "params", "wide": None}
SAMPLE_S = 0.5

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


def start_phases(log: Path) -> Dict[str, float]:
    """The supervisor's own timings of `up`: migration, components healthy, execution API built."""
    phases = {"db_migrate": r"database migrated in ([\d.]+) s", "components_healthy": r"components healthy in ([\d.]+) s",
              "execution_api_warm_up": r"execution API ready in ([\d.]+) s"}
    text = log.read_text(errors="replace") if log.exists() else ""
    found = {name: re.search(pattern, text) for name, pattern in phases.items()}
    return {name: float(match.group(1)) for name, match in found.items() if match}


def load_average() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


class Sampler(threading.Thread):
    """Memory per role of the devstack every SAMPLE_S while `active` is set (peaks kept)."""

    def __init__(self, leader: int) -> None:
        super().__init__(daemon=True)
        self.leader = leader
        self.peaks = Peaks()
        self.active = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        table = stack_module().process_table
        while not self.stopped.is_set():
            if self.active.is_set():
                self.peaks.add(snapshot(self.leader, table))
            self.stopped.wait(SAMPLE_S)


def bare_engine(stack: Devstack, repeat: int, sampler: Sampler) -> Dict[str, Any]:
    """DAG-parse wait and trigger to success of a trivial BashOperator DAG (no Metaflow)."""
    client_mod = client_module()
    client = stack.client()
    parses: List[float] = []
    runs: List[float] = []
    sampler.active.set()
    try:
        for _ in range(repeat):
            dag_id = "mfx_bench_%s" % uuid.uuid4().hex[:8]
            written = client_mod.write_dag_file(stack.dags_folder(), dag_id + ".py", TRIVIAL_DAG.format(dag_id=dag_id))
            t0 = time.monotonic()
            client.wait_for_dag(dag_id, dag_id + ".py", since=written, timeout=300, poll=0.25)
            parses.append(time.monotonic() - t0)
            client.set_paused(dag_id, False)
            t0 = time.monotonic()
            run = client.wait_for_run(dag_id, client.trigger(dag_id, "airflow-%s" % uuid.uuid4().hex[:12]).run_id, timeout=600, poll=0.25)
            if run.state != "success":
                raise RuntimeError("the trivial DAG did not succeed: %s" % run)
            runs.append(time.monotonic() - t0)
    finally:
        sampler.active.clear()
    return {"dag_parse_wait_s": {"median": round(median(parses), 2), "all": [round(p, 2) for p in parses]},
            "trigger_to_success_s": {"median": round(median(runs), 2), "all": [round(r, 2) for r in runs]}}


def flow_plan(names: List[str], flows_dir: Path, wide: int) -> Dict[str, Any]:
    flows: List[Dict[str, Any]] = []
    for name in names:
        if name not in FLOWS:
            raise SystemExit("unknown flow %r (choose from %s)" % (name, ", ".join(FLOWS)))
        if FLOWS[name]:
            flows.append({"name": name, "spec": FLOWS[name]})
        else:
            flows_dir.mkdir(parents=True, exist_ok=True)
            (flows_dir / "wide_flow.py").write_text(WIDE_FLOW, encoding="utf-8")
            flows.append({"name": "wide foreach (%d)" % wide, "file": str(flows_dir / "wide_flow.py"), "params": {"width": wide}})
    return {"module": MODULE_NAME, "method": METHOD, "flows": flows, "flows_dir": str(flows_dir), "timeout": 900}


def python_costs(repo: Path, repeat: int = 3) -> Dict[str, float]:
    """Median wall seconds of a bare Python start and of `import metaflow` in the repo's venv: every
    Airflow task pays the import twice (the task entry point reads the datastore, then the step
    process), a local Runner task once."""
    python = str(repo / ".venv" / "bin" / "python")
    out: Dict[str, float] = {}
    for name, code in (("python_start_s", "pass"), ("import_metaflow_s", "import metaflow")):
        times = []
        for _ in range(repeat):
            t0 = time.monotonic()
            subprocess.run([python, "-c", code], cwd=repo, check=True, stdin=subprocess.DEVNULL, timeout=120)
            times.append(time.monotonic() - t0)
        out[name] = round(median(times), 2)
    return out


def run_flows(repo: Path, stack: Devstack, plan: Dict[str, Any], sampler: Sampler) -> List[Dict[str, Any]]:
    """The driver in the generated repo's venv; memory sampled while orchestrated runs execute."""
    env = {**os.environ, **stack.env(), "VIRTUAL_ENV": str(repo / ".venv"),
           "PATH": "%s%s%s" % (repo / ".venv" / "bin", os.pathsep, os.environ.get("PATH", ""))}
    env.pop("UV_PYTHON", None)
    env.setdefault("METAFLOW_USER", "mfx-bench")
    rows: List[Dict[str, Any]] = []
    with open(stack.state / "flows_driver.log", "w") as log:
        proc = subprocess.Popen([str(repo / ".venv" / "bin" / "python"), str(DRIVER), json.dumps(plan)], cwd=repo, env=env,
                                stdout=subprocess.PIPE, stderr=log, text=True, stdin=subprocess.DEVNULL)
        try:
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                kind = event.pop("event", None)
                if kind == "orchestrated-start":
                    sampler.active.set()
                elif kind == "orchestrated-end":
                    sampler.active.clear()
                elif kind == "flow":
                    rows.append(summarize(event))
                    print("%s: %s" % (event["name"], json.dumps(rows[-1])), file=sys.stderr)
            proc.wait(timeout=60)
        finally:
            sampler.active.clear()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if proc.returncode:
        tail = (stack.state / "flows_driver.log").read_text(errors="replace")[-3000:]
        rows.append({"name": "(driver)", "error": "the flows driver exited %s:\n%s" % (proc.returncode, tail)})
    return rows


def summarize(row: Dict[str, Any]) -> Dict[str, Any]:
    intervals = row.pop("airflow_task_intervals", None) or []
    spans = span_seconds([tuple(i) for i in intervals])
    row["airflow_tasks"] = spans["tasks"]
    row["airflow_task_mean_s"] = spans["mean_s"]
    row["airflow_idle_gaps_s"] = spans["idle_gaps_s"]
    row["ratio_run"] = ratio(row.get("orchestrated_run_s"), row.get("local_run_s"))
    row["ratio_wall"] = ratio(row.get("trigger_to_finished_s"), row.get("local_wall_s"))
    return row


def memory_rows(idle: Dict[str, Dict[str, float]], peaks: Peaks) -> List[str]:
    lines = ["| role | processes idle / peak | RSS idle MiB | RSS peak MiB | PSS idle MiB | PSS peak MiB |", "|---|---|---|---|---|---|"]
    for role in ROLES:
        a, b = idle.get(role), peaks.peak.get(role)
        if not a and not b:
            continue
        a = a or {"rss": 0, "pss": 0, "processes": 0}
        b = b or {"rss": 0, "pss": 0, "processes": 0}
        lines.append("| %s | %d / %d | %s | %s | %s | %s |" % (role, a["processes"], b["processes"], a["rss"], b["rss"], a["pss"], b["pss"]))
    t = totals(idle)
    lines.append("| **whole devstack** | %d | %s | %s | %s | %s |" % (t["processes"], t["rss"], peaks.total_peak["rss"], t["pss"], peaks.total_peak["pss"]))
    return lines


def flow_rows(flows: List[Dict[str, Any]]) -> List[str]:
    def cell(row: Dict[str, Any], key: str) -> str:
        value = row.get(key)
        return "-" if value is None else str(value)

    keys = ["airflow_tasks", "create_s", "create_until_dag_written_s", "dag_parse_wait_s", "airflow_parse_latency_s", "trigger_s",
            "trigger_to_first_task_s", "trigger_to_finished_s", "airflow_task_mean_s", "local_task_mean_s", "airflow_idle_gaps_s", "orchestrated_run_s",
            "local_run_s", "ratio_run", "local_wall_s", "ratio_wall"]
    lines = ["| flow | Airflow tasks | create s | of which until DAG file written s | of which parse wait s | Airflow parse latency s "
             "| trigger s | trigger to first task s | trigger to finished s | Airflow task mean s | local Runner task mean s | idle gaps s "
             "| orchestrated run s | local Runner run s | **ratio run** | local Runner wall s | ratio wall |",
             "|" + "---|" * (len(keys) + 1)]
    for row in flows:
        if row.get("error") or row.get("local_error"):
            lines.append("| %s | error: %s |" % (row["name"], (row.get("error") or row.get("local_error")).splitlines()[0][:200]))
            continue
        lines.append("| %s | %s |" % (row["name"], " | ".join(cell(row, k) for k in keys)))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--cold", action="store_true", help="also install with an empty uv cache (downloads ~100 MB)")
    parser.add_argument("--repeat", type=int, default=3, help="trivial-DAG parses and runs to time (median reported)")
    parser.add_argument("--flows", default=",".join(FLOWS), help="flows to deploy, of: %s" % ", ".join(FLOWS))
    parser.add_argument("--wide", type=int, default=16, help="width of the wide foreach")
    parser.add_argument("--skip-install", action="store_true", help="skip the fresh-venv install timing")
    parser.add_argument("--render-only", action="store_true", help="rewrite airflow.md from --out's airflow.json")
    args, _ = parser.parse_known_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        saved = json.loads((out / "airflow.json").read_text())
        for row in saved.get("flows", []):
            row.setdefault("ratio_run", ratio(row.get("orchestrated_run_s"), row.get("local_run_s")))
        (out / "airflow.md").write_text("\n".join(render_markdown(saved, saved.get("repeat", args.repeat))) + "\n")
        return 0
    stack_mod = stack_module()
    result: Dict[str, Any] = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "airflow_version": stack_mod.AIRFLOW_VERSION, "cpus": os.cpu_count(), "load_average_start": load_average(),
        "repeat": args.repeat,
    }
    names = [n.strip() for n in args.flows.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="mfx-bench-airflow-") as tmp:
        base = Path(tmp)
        install: Dict[str, float] = {}
        cached_venv = stack_mod.default_venv()
        first = timed_install(cached_venv, {})
        install["cached_venv_s"] = round(timed_install(cached_venv, {}), 2)
        if first > 5:  # this run created the machine's venv
            install["first_install_s"] = round(first, 1)
        if not args.skip_install:
            install["fresh_venv_warm_uv_cache_s"] = round(timed_install(base / "venv-warm", {}), 1)
        if args.cold:
            install["fresh_venv_cold_uv_cache_s"] = round(
                timed_install(base / "venv-cold", {"UV_CACHE_DIR": str(base / "uv-cache")}), 1)
        result["install"] = install

        started = time.monotonic()
        repo = render(base / "repo", kind="orchestrator", preset="airflow")
        make_venv(repo)
        result["preset_repo_render_and_venv_s"] = round(time.monotonic() - started, 1)

        stack = Devstack(repo)  # the generated repository's own devstack/run.py
        started = time.monotonic()
        try:
            stack.up()
            result["start_to_healthy_s"] = round(time.monotonic() - started, 1)
            result["start_phases_s"] = start_phases(stack.state / "airflow.log")
            time.sleep(5)
            table = stack_mod.process_table
            idle = snapshot(stack.leader(), table)
            result["memory_idle_mib"] = idle
            sampler = Sampler(stack.leader())
            sampler.start()
            result["bare_engine"] = bare_engine(stack, args.repeat, sampler)
            result["python_costs"] = python_costs(repo)
            result["flows"] = run_flows(repo, stack, flow_plan(names, base / "flows", args.wide), sampler)
            sampler.stopped.set()
            result["memory_peak_mib"] = sampler.peaks.peak
            result["memory_peak_total_mib"] = sampler.peaks.total_peak
            result["memory_samples"] = sampler.peaks.samples
            result["memory_after_runs_mib"] = totals(snapshot(stack.leader(), table))
        finally:
            t0 = time.monotonic()
            stack.down()
            result["stop_s"] = round(time.monotonic() - t0, 1)
    result["load_average_end"] = load_average()
    (out / "airflow.json").write_text(json.dumps(result, indent=2))
    lines = render_markdown(result, args.repeat)
    (out / "airflow.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    failed = [row["name"] for row in result.get("flows", []) if row.get("error") or row.get("local_error")]
    return 1 if failed else 0


def render_markdown(result: Dict[str, Any], repeat: int) -> List[str]:
    bare = result.get("bare_engine", {})
    flows = result.get("flows", [])
    ratios = [row["ratio_run"] for row in flows if row.get("ratio_run")]
    return [
        "# Airflow 3 preset benchmark (preset orchestrator-airflow, Airflow %s, %s CPUs)" % (result["airflow_version"], result["cpus"]),
        "",
        "%s UTC; load average %s at the start, %s at the end (1/5/15 min). Compare runs as ratios."
        % (result["date_utc"], " / ".join(map(str, result["load_average_start"])), " / ".join(map(str, result.get("load_average_end", [])))),
        "",
        "## Devstack",
        "",
        "| measure | value |",
        "|---|---|",
        *("| install: %s | %s s |" % (k[:-2].replace("_", " "), v) for k, v in result["install"].items()),
        "| render the preset repository + its venv | %s s |" % result.get("preset_repo_render_and_venv_s"),
        "| start to healthy (`run.py up`, venv cached) | %s s |" % result.get("start_to_healthy_s"),
        "| of which | %s |" % ", ".join("%s %s s" % (k.replace("_", " "), v) for k, v in result.get("start_phases_s", {}).items()),
        "| bare engine: DAG-parse wait of a trivial DAG (median of %d, poll 0.25 s) | %s s |" % (repeat, bare.get("dag_parse_wait_s", {}).get("median")),
        "| bare engine: trigger to success, one BashOperator (median of %d) | %s s |" % (repeat, bare.get("trigger_to_success_s", {}).get("median")),
        "| stop (`run.py down`) | %s s |" % result.get("stop_s"),
        *(["| Python start / `import metaflow` in the repo's venv (median of 3) | %s s / %s s |"
           % (result["python_costs"]["python_start_s"], result["python_costs"]["import_metaflow_s"])] if "python_costs" in result else []),
        "",
        "## Flows (one run each; `create` and `trigger` through Metaflow's Deployer API)",
        "",
        "ratio run = orchestrated / local `Runner` run time, both init to last task end from Metaflow metadata "
        "(as `mfx.compliance.bench`); ratio wall = trigger to finished / the `Runner` call. Median ratio run: **%s**."
        % (round(median(ratios), 2) if ratios else "-"),
        "",
        *flow_rows(flows),
        "",
        "## Memory (MiB; idle after start, peak while the flows ran, sampled every %.1f s)" % SAMPLE_S,
        "",
        "PSS shares pages among the processes mapping them (the executor workers are forks of the scheduler): the PSS "
        "column sums to the memory the devstack holds; RSS counts shared pages once per process.",
        "",
        *memory_rows(result.get("memory_idle_mib", {}), _peaks(result)),
    ]


def _peaks(result: Dict[str, Any]) -> Peaks:
    peaks = Peaks()
    peaks.peak = result.get("memory_peak_mib", {})
    peaks.total_peak = result.get("memory_peak_total_mib", {"rss": 0.0, "pss": 0.0})
    return peaks


if __name__ == "__main__":
    sys.exit(main())
