"""Per-flow driver of the Airflow bench: runs INSIDE a generated `preset=airflow` repository's venv.

For each flow of the plan (JSON on argv: a compliance-suite spec key, or a flow file with
parameters): `Deployer(flow).<method>().create()` timed and split
at the moment the DAG file was written (the rest is the wait until Airflow has parsed it),
`trigger()` timed, the run followed until Metaflow reports it finished, Airflow's view of the
DAG run and its task instances read back, then the same flow once with Metaflow's local
`Runner` (the same local metadata and datastore as the devstack's tasks). Prints one JSON line per event
on stdout ({"event": "orchestrated-start"|"orchestrated-end"|"flow", ...}) so the bench can
sample memory while orchestrated runs execute.

    <repo>/.venv/bin/python flows_driver.py '<plan json>'

The devstack's settings (env.json) must be in the environment before Metaflow is imported.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional

POLL_S = 0.25


def emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def epoch(value: Optional[str], parse_time) -> Optional[float]:
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        return None


def metaflow_tasks(run: Any) -> List[Dict[str, Any]]:
    out = []
    for step in run:
        for task in step:
            if task.created_at is not None and task.finished_at is not None:
                out.append({"step": step.id, "seconds": (task.finished_at - task.created_at).total_seconds()})
    return out


def mean(values: List[float]) -> Optional[float]:
    return round(sum(values) / len(values), 2) if values else None


def orchestrated(flow: Dict[str, Any], method: str, engine_cls: Any, client_mod: Any, run_duration: Any, timeout: float) -> Dict[str, Any]:
    from metaflow import Deployer

    engine = engine_cls()
    result: Dict[str, Any] = {}
    impl = getattr(Deployer(flow["file"], show_output=False, pylint=False), method)()
    started = time.time()
    deployed = impl.create()
    created = time.time()
    dag_file = engine.files(deployed.name)[0]
    written = dag_file.stat().st_mtime
    info = engine.client().get_dag(engine.dag_id(deployed.name))
    parsed = epoch(info.last_parsed_time if info else None, client_mod.parse_time)
    result.update(
        deployment=deployed.name,
        create_s=round(created - started, 2),
        create_until_dag_written_s=round(written - started, 2),  # Metaflow CLI start, plan, DAG model, document
        dag_parse_wait_s=round(created - written, 2),  # written -> create returned (parse wait, unpause, CLI exit)
        airflow_parse_latency_s=round(parsed - written, 2) if parsed else None,  # written -> Airflow's last_parsed_time
    )
    t0 = time.time()
    triggered = deployed.trigger(**flow.get("params", {}))
    t1 = time.time()
    result["trigger_s"] = round(t1 - t0, 2)
    run = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = triggered.run
        if run is not None and run.finished:
            break
        if triggered.status in ("FAILED", "ABORTED"):
            break
        time.sleep(POLL_S)
    finished = time.time()
    if run is None or not run.finished:
        raise RuntimeError("run %s did not finish within %.0f s (status %s)" % (triggered.pathspec, timeout, triggered.status))
    result.update(
        run_id=run.id,
        successful=bool(run.successful),
        trigger_to_finished_s=round(finished - t0, 2),
        orchestrated_run_s=_round(run_duration(run)),  # Metaflow metadata: init -> last task end
    )
    client = engine.client()
    dag_run = client.find_run(run.id)
    settle = time.monotonic() + 60  # Airflow closes the last task instance and the DAG run after Metaflow's end
    while dag_run is not None and not dag_run.finished and time.monotonic() < settle:
        time.sleep(POLL_S)
        dag_run = client.find_run(run.id)
    if dag_run is not None:
        queued = epoch(dag_run.queued_at, client_mod.parse_time)
        begun = epoch(dag_run.start_date, client_mod.parse_time)
        ended = epoch(dag_run.end_date, client_mod.parse_time)
        result["airflow_dag_run_s"] = _round(ended - begun if ended and begun else None)
        result["airflow_queued_to_start_s"] = _round(begun - queued if begun and queued else None)
        tis = client.task_instances(dag_run.dag_id, dag_run.run_id)
        result["airflow_task_intervals"] = [  # tasks that ran (a switch's other case is "skipped")
            [epoch(t.start_date, client_mod.parse_time), epoch(t.end_date, client_mod.parse_time)] for t in tis if t.state == "success"]
        result["airflow_dag_run_finished_after_metaflow_s"] = _round(ended - finished if ended else None)
        result["trigger_to_first_task_s"] = _round(min((s for s, _ in result["airflow_task_intervals"] if s), default=t0) - t0)
    result["metaflow_tasks"] = len(metaflow_tasks(run))
    return result


def local(flow: Dict[str, Any], run_duration: Any) -> Dict[str, Any]:
    from metaflow import Runner

    started = time.time()
    with Runner(flow["file"], show_output=False, pylint=False).run(**flow.get("params", {})) as running:
        wall = time.time() - started
        run = running.run
        return {"local_run_s": _round(run_duration(run)), "local_wall_s": round(wall, 2), "local_successful": bool(run.successful),
                "local_task_mean_s": mean([t["seconds"] for t in metaflow_tasks(run)])}


def _round(value: Optional[float]) -> Optional[float]:
    return round(value, 2) if value is not None else None


def main() -> int:
    plan = json.loads(sys.argv[1])
    module = plan["module"]
    engine_mod = importlib.import_module("metaflow_extensions.%s.plugins.%s.engine" % (module, module))
    client_mod = importlib.import_module("metaflow_extensions.%s.plugins.%s.airflow_client" % (module, module))
    from mfx.compliance.harness import flow_path, run_duration
    from mfx.compliance.tests.orchestrator.specs import SPECS

    private = Path(plan["flows_dir"])  # deployed from a private copy, as the compliance suite does
    private.mkdir(parents=True, exist_ok=True)
    for flow in plan["flows"]:
        if "spec" in flow:  # a compliance-suite run: its flow and parameters
            spec = SPECS[flow["spec"]]
            flow = {**flow, "file": shutil.copy2(flow_path("orchestrator", spec.flow), private), "params": dict(spec.params)}
        row: Dict[str, Any] = {"name": flow["name"]}
        emit(event="orchestrated-start", flow=flow["name"])
        try:
            row.update(orchestrated(flow, plan["method"], engine_mod.Engine, client_mod, run_duration, plan.get("timeout", 900)))
        except Exception as exc:  # one flow's failure must not lose the others' numbers
            row["error"] = "%s: %s" % (type(exc).__name__, str(exc)[-1500:])
            traceback.print_exc()
        emit(event="orchestrated-end", flow=flow["name"])
        try:
            row.update(local(flow, run_duration))
        except Exception as exc:
            row["local_error"] = "%s: %s" % (type(exc).__name__, str(exc)[-1500:])
            traceback.print_exc()
        emit(event="flow", **row)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("METAFLOW_USER", "mfx-bench")
    sys.exit(main())
