"""USER-OWNED: the Airflow 3 calls of this extension (`copier update` never rewrites this file).

Compiled execution model: `create` turns the flow's DAG model (orchestrator/dag.py) into one
Airflow DAG file written into Airflow's DAGs folder -- one Airflow task per Metaflow step, each
running the task entry point (orchestrator/task_entry.py) with this environment's Python; foreach
is dynamic task mapping over the index paths the foreach task returns, split-switch is Airflow
branching, @retry is the task's retries (Metaflow's retry count = try number - 1), @timeout is
execution_timeout on top of Metaflow's own, @schedule is the DAG's schedule. The deployment record
sits next to the DAG file; a DAG run's id is the Metaflow run id. airflow_client.py (template-owned)
talks to Airflow's REST API. Settings: METAFLOW_MF_AIRFLOW_API_URL, _DAGS_FOLDER,
_USERNAME, _PASSWORD_FILE (or _PASSWORD), from the devstack's env.json or the Metaflow config;
optional _DAG_ID_PREFIX keeps several environments apart on one Airflow (DAG ids are global).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .airflow_client import AirflowClient, AirflowError, AirflowUnreachable, DagImportError, write_dag_file
from .names import ENGINE_NAME, RUN_ID_PREFIX
from .orchestrator.deployment import DeploymentRecord
from .orchestrator.engine_api import EngineAPI
from .orchestrator.errors import NotSupported

TAG = "metaflow-mf_airflow"  # every DAG this extension deploys carries it (list())
RECORD_SUFFIX = ".metaflow.json"  # the deployment record next to the DAG file (Airflow parses *.py only)
CANCEL_NOTE = "terminated from Metaflow"  # a run failed by cancel() reads as ABORTED
PARSE_TIMEOUT_S = 50.0  # create must finish within a minute
SLACK_S = 60  # Airflow's execution_timeout lies past Metaflow's own @timeout (O17)

# The fixed part of every DAG file: it runs inside Airflow (its own venv), so it uses only the
# standard library and airflow.sdk; the task entry point runs in THIS environment's Python.
PRELUDE = '''\
# The Airflow DAG of Metaflow flow %(flow)s, written by `%(engine)s create`: re-run create, do not edit.
import hashlib, json, os, re, signal, subprocess
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

PYTHON, ENTRY, DEPLOYMENT, START, PREFIX = %(python)r, %(entry)r, %(deployment)r, %(start)r, %(prefix)r


def metaflow_run_id(run_id):
    """The DAG run id when Metaflow can use it (trigger passes the Metaflow run id), else one derived from it."""
    if re.match(r"^[A-Za-z0-9_.-]+$", run_id) and not run_id.isdigit():
        return run_id
    return "%%s-%%s" %% (PREFIX, hashlib.sha1(run_id.encode()).hexdigest()[:20])  # scheduled__2026-...:00+00:00


def run_entry(step, index_path, context):
    ti, dag_run = context["ti"], context["dag_run"]
    argv = [PYTHON, "-m", ENTRY, "--deployment", DEPLOYMENT, "--run-id", metaflow_run_id(dag_run.run_id),
            "--step", step, "--index-path", index_path, "--attempt", str(ti.try_number)]
    if step == START:
        argv += ["--params-json", json.dumps((dag_run.conf or {}).get("parameters") or {})]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out, _ = proc.communicate()
    except BaseException:  # execution_timeout or SIGTERM: the Metaflow task goes with the Airflow task
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        raise
    if proc.returncode == 1:
        raise AirflowException("step %%s [%%s] failed (attempt %%d); its log is above" %% (step, index_path, ti.try_number))
    if proc.returncode:
        raise AirflowFailException("the task entry of step %%s exited %%d: not retried" %% (step, proc.returncode))
    result = json.loads(out.strip().splitlines()[-1])
    if result["status"] == "skipped":
        raise AirflowSkipException(result.get("reason") or "skipped")
    return result
'''


class Engine(EngineAPI):
    EXECUTION = "compiled"  # create builds dag.build_dag(record.plan) first (O26)
    STATUS_MAP = {
        "queued": "PENDING",
        "running": "RUNNING",
        "success": "SUCCEEDED",
        "failed": "FAILED",
        "terminated": "ABORTED",
    }

    def client(self, timeout: float = 20.0) -> AirflowClient:
        return AirflowClient.from_settings(self.setting, timeout=timeout)

    @property
    def dags_folder(self) -> Path:
        folder = self.setting("DAGS_FOLDER")
        if not folder:
            raise AirflowError("no Airflow DAGs folder configured: set METAFLOW_MF_AIRFLOW_DAGS_FOLDER "
                               "(the devstack's env.json has it)")
        return Path(folder)

    def dag_id(self, name: str) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", (self.setting("DAG_ID_PREFIX") or "") + name)[:250]

    def files(self, name: str) -> Tuple[Path, Path]:
        """(the DAG file, the deployment record) of deployment ``name``."""
        stem = "metaflow_" + self.dag_id(name).replace(".", "_")
        return self.dags_folder / (stem + ".py"), self.dags_folder / (stem + RECORD_SUFFIX)

    def check_reachable(self, timeout: float = 20.0) -> None:
        try:
            self.client(timeout).health()
        except AirflowUnreachable as exc:
            raise self.unreachable(exc.url, exc.cause, setting="API_URL")

    # -- the DAG document -----------------------------------------------------------------------
    def build_document(self, dag: Dict[str, Any], record: DeploymentRecord, deployment: Path) -> str:
        """The Airflow DAG file of ``dag`` (the DAG model); NotSupported for shapes it cannot hold (O26)."""
        from .orchestrator.compiled_driver import ENTRY_MODULE

        if dag["max_foreach_depth"] > 1:
            raise NotSupported("nested foreach", "this Airflow DAG maps one level of foreach (no mapped task groups)")
        lines = [PRELUDE % {"flow": record.flow_name, "engine": ENGINE_NAME, "python": sys.executable, "entry": ENTRY_MODULE, "deployment": str(deployment),
                            "start": dag["start_step"], "prefix": RUN_ID_PREFIX}]
        cron = record.schedule
        schedule = "None"
        if cron:
            lines.append("from airflow.timetables.trigger import CronTriggerTimetable\n")
            schedule = "CronTriggerTimetable(%r, timezone=%r)" % (cron["cron"], cron.get("timezone") or "UTC")
        tags = ["metaflow", TAG, record.flow_name] + list(record.plan.get("tags") or [])
        if record.branch_name:
            tags.append("branch:%s" % record.branch_name)
        lines.append("with DAG(%r, schedule=%s, start_date=pendulum.datetime(2024, 1, 1, tz='UTC'), catchup=False,\n"
                     "         tags=%r, description=%r) as dag:\n    t = {}"
                     % (self.dag_id(record.name), schedule, sorted({t[:100] for t in tags}),
                        "Metaflow flow %s deployed by %s" % (record.flow_name, ENGINE_NAME)))
        for i, name in enumerate(dag["order"]):
            lines.extend(self._task(dag, name, i))
        return "\n".join(lines) + "\n"

    def _task(self, dag: Dict[str, Any], name: str, i: int) -> List[str]:
        node = dag["nodes"][name]
        if node["switch"] and node["depth"]:
            raise NotSupported("a split-switch inside a foreach (step %r)" % name, "Airflow cannot branch a mapped task")
        retry = node["retry"]
        options = "task_id=%r, retries=%d, retry_delay=timedelta(minutes=%r), execution_timeout=timedelta(seconds=%d)" % (
            name, retry["attempts"] - 1, retry["minutes_between_retries"], int(node["time_limit_seconds"] or 3600) + SLACK_S)
        if node["join"] and node["join"]["kind"] == "switch-merge":
            options += ", trigger_rule='none_failed_min_one_success'"  # only the chosen case ran (O25)
        if node["switch"]:
            decorator, returned = "task.branch", 'result["switch"]["chosen"]'  # the chosen step's task id
        elif node["fan_out"]:
            decorator, returned = "task", 'result["foreach"]["index_paths"]'  # what the child maps over
        else:
            decorator, returned = "task", 'result["index_path"]'
        call = "step_%d()" % i
        if node["depth"]:  # mapped: one task instance per foreach item (index path)
            call = "step_%d.expand(index_path=t[%r])" % (i, node["upstream"][0])
        upstream = ["    t[%r] >> t[%r]" % (up, name) for up in node["upstream"][int(bool(node["depth"])):]]
        return ["",
                "    @%s(%s)" % (decorator, options),
                "    def step_%d(index_path='', **context):" % i,
                "        result = run_entry(%r, index_path, context)" % name,
                "        return %s" % returned,
                "",
                "    t[%r] = %s" % (name, call)] + upstream

    # -- the contract ---------------------------------------------------------------------------
    def deploy(self, record: DeploymentRecord) -> None:
        from .orchestrator.dag import build_dag

        dag_file, record_file = self.files(record.name)
        source = self.build_document(build_dag(record.plan), record, record_file)
        client = self.client()
        record_file.parent.mkdir(parents=True, exist_ok=True)
        record_file.write_text(record.to_json(), encoding="utf-8")
        written = write_dag_file(dag_file.parent, dag_file.name, source)
        try:
            client.wait_for_dag(self.dag_id(record.name), dag_file.name, since=written, timeout=PARSE_TIMEOUT_S)
        except DagImportError:  # a file Airflow cannot import is not left behind
            dag_file.unlink(missing_ok=True)
            record_file.unlink(missing_ok=True)
            raise
        # unpaused: a manual trigger on a paused DAG would wait forever; without @schedule the
        # DAG has schedule=None, so nothing starts by itself
        client.set_paused(self.dag_id(record.name), False)

    def fetch(self, name: str) -> Optional[DeploymentRecord]:
        record_file = self.files(name)[1]
        if not record_file.is_file():
            return None
        return DeploymentRecord.from_json(record_file.read_text(encoding="utf-8"))

    def list(self, flow_name: Optional[str] = None) -> List[DeploymentRecord]:
        found = []
        for info in self.client().list_dags(tags=[TAG]):
            if not info.dag_id.startswith(self.dag_id("")):
                continue  # another environment's (DAG_ID_PREFIX)
            stem = "metaflow_" + info.dag_id.replace(".", "_")
            record_file = self.dags_folder / (stem + RECORD_SUFFIX)
            if record_file.is_file():
                found.append(DeploymentRecord.from_json(record_file.read_text(encoding="utf-8")))
        return [r for r in found if flow_name is None or r.flow_name == flow_name]

    def delete(self, name: str) -> bool:
        dag_file, record_file = self.files(name)
        existed = record_file.is_file()
        record_file.unlink(missing_ok=True)
        return self.client().delete_dag(self.dag_id(name), dag_file=dag_file) or existed

    def start_run(self, record: DeploymentRecord, run_id: str, params: Dict[str, str]) -> None:
        if record.plan.get("resume"):
            raise NotSupported("resume", "the Airflow DAG runs the deployed plan as it is; trigger a new run instead")
        self.client().trigger(self.dag_id(record.name), run_id, conf={"parameters": params})

    def run_status(self, run_id: str) -> Optional[str]:
        run = self.client().find_run(run_id)
        if run is None:
            return None
        return "terminated" if run.state == "failed" and run.note == CANCEL_NOTE else run.state

    def cancel(self, run_id: str) -> bool:
        client = self.client()
        run = client.find_run(run_id)
        if run is None or run.finished:
            return False
        client.set_run_state(run.dag_id, run_id, "failed", note=CANCEL_NOTE)
        return True
