"""USER-OWNED: the Temporal API calls of this extension (`copier update` never rewrites this file).

Each deployment is a Temporal Schedule (id = deployment name) whose memo holds the deployment
record; it is paused unless the flow has @schedule. A run is one execution of the generic plan
workflow of `engine_worker.py` with workflow id = Metaflow run id. The temporalio SDK is
imported inside methods only, so `import metaflow` works without it (pitfall O5).
Settings: METAFLOW_TEMPORAL_ADDRESS, _NAMESPACE, _TASK_QUEUE (env or Metaflow config).
Liveness: `missing_worker` asks Temporal who polls the run's task queue (DescribeTaskQueue), so a
run nobody executes is reported at `trigger` and in `status` with `worker_command`.
"""

from __future__ import annotations

import shlex
import sys
import time
from datetime import timedelta
from typing import Any, Dict, List, Optional

from .orchestrator.deployment import DeploymentRecord
from .orchestrator.engine_api import EngineAPI

WORKFLOW = "MetaflowPlanWorkflow"  # registered by engine_worker.py
MEMO_KEY = "metaflow_deployment"
WORKER_MODULE = "metaflow_extensions.temporal.plugins.temporal.engine_worker"
# An idle worker long-polls: Temporal refreshes a poller's last access at least every ~70 s.
POLLER_FRESH_SECONDS = 90.0
# With a live poller a workflow task is handed out in milliseconds; one still waiting after this
# long means the pollers Temporal lists are gone (a worker that was killed).
WORKFLOW_TASK_STUCK_SECONDS = 20.0
# Temporal's default (10 s) is short for the workflow task that schedules a whole batch of a large
# foreach on a busy machine: past it the task times out and starts over.
WORKFLOW_TASK_TIMEOUT_SECONDS = 60


async def _unless_missing(awaitable: Any, missing: Any = None) -> Any:
    """Await an RPC; `missing` when Temporal answers NOT_FOUND."""
    from temporalio.service import RPCError, RPCStatusCode

    try:
        return await awaitable
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return missing


class Engine(EngineAPI):
    STATUS_MAP = {
        "RUNNING": "RUNNING",
        "CONTINUED_AS_NEW": "RUNNING",
        "COMPLETED": "SUCCEEDED",
        "FAILED": "FAILED",
        "TIMED_OUT": "TIMED_OUT",
        "CANCELED": "ABORTED",
        "TERMINATED": "ABORTED",
    }

    def __init__(self, env: Optional[Dict[str, str]] = None) -> None:
        super().__init__(env)
        self._run_queues: Dict[str, str] = {}  # run id -> its task queue, seen by missing_worker

    @property
    def address(self) -> str:
        return self.setting("ADDRESS", "127.0.0.1:7233") or ""

    @property
    def task_queue(self) -> str:
        return self.setting("TASK_QUEUE", "metaflow-temporal") or ""

    @property
    def namespace(self) -> str:
        return self.setting("NAMESPACE", "default") or "default"

    async def client(self) -> Any:
        from temporalio.client import Client

        try:
            return await Client.connect(self.address, namespace=self.namespace)
        except RuntimeError as exc:  # the SDK's text is a transport dump: unreachable() reduces it
            raise self.unreachable(self.address, str(exc))

    def check_reachable(self, timeout: float = 20.0) -> None:
        self.run_async(self.client(), timeout)

    def deploy(self, record: DeploymentRecord) -> None:
        from temporalio.client import Schedule, ScheduleActionStartWorkflow, ScheduleSpec, ScheduleState

        cron = record.schedule
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                WORKFLOW, args=[record.plan, None, {}], id=record.name, task_queue=self.task_queue,
                task_timeout=timedelta(seconds=WORKFLOW_TASK_TIMEOUT_SECONDS),
            ),
            spec=ScheduleSpec(
                cron_expressions=[cron["cron"]] if cron else [],
                time_zone_name=(cron or {}).get("timezone"),
            ),
            state=ScheduleState(paused=not cron, note="Metaflow deployment of %s" % record.flow_name),
        )

        async def replace() -> None:
            client = await self.client()
            await _unless_missing(client.get_schedule_handle(record.name).delete())
            await client.create_schedule(record.name, schedule, memo={MEMO_KEY: record.to_json()})

        self.run_async(replace())

    def fetch(self, name: str) -> Optional[DeploymentRecord]:
        async def get() -> Optional[str]:
            description = await _unless_missing((await self.client()).get_schedule_handle(name).describe())
            return description and (await description.memo()).get(MEMO_KEY)

        text = self.run_async(get())
        return DeploymentRecord.from_json(text) if text else None

    def list(self, flow_name: Optional[str] = None) -> List[DeploymentRecord]:
        async def scan() -> List[str]:
            schedules = await (await self.client()).list_schedules()
            return [text async for item in schedules if (text := (await item.memo()).get(MEMO_KEY))]

        records = [DeploymentRecord.from_json(text) for text in self.run_async(scan())]
        return [r for r in records if flow_name is None or r.flow_name == flow_name]

    def delete(self, name: str) -> bool:
        async def remove() -> bool:
            handle = (await self.client()).get_schedule_handle(name)
            return await _unless_missing(handle.delete(), missing=False) is None

        return self.run_async(remove())

    def start_run(self, record: DeploymentRecord, run_id: str, params: Dict[str, str]) -> None:
        async def start() -> None:
            client = await self.client()
            await client.start_workflow(
                WORKFLOW, args=[record.plan, run_id, params], id=run_id, task_queue=self.task_queue,
                task_timeout=timedelta(seconds=WORKFLOW_TASK_TIMEOUT_SECONDS),
            )

        self.run_async(start())

    def run_status(self, run_id: str) -> Optional[str]:
        async def describe() -> Optional[str]:
            description = await _unless_missing((await self.client()).get_workflow_handle(run_id).describe())
            return description.status.name if description and description.status else None

        return self.run_async(describe())

    def cancel(self, run_id: str) -> bool:
        async def terminate() -> bool:
            handle = (await self.client()).get_workflow_handle(run_id)
            return await _unless_missing(handle.terminate(reason="terminated from Metaflow"), missing=False) is None

        return self.run_async(terminate())

    # -- liveness ------------------------------------------------------------------------------
    def missing_worker(self, run_id: str) -> Optional[str]:
        from temporalio.api.enums.v1 import PendingWorkflowTaskState, TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
        from temporalio.client import WorkflowExecutionStatus

        async def ask() -> Optional[str]:
            client = await self.client()
            described = await _unless_missing(client.get_workflow_handle(run_id).describe())
            if described is None or described.status != WorkflowExecutionStatus.RUNNING:
                return None
            queue = described.raw_description.execution_config.task_queue.name or self.task_queue
            self._run_queues[run_id] = queue  # worker_command(run_id) names this queue
            where = "task queue '%s' (namespace %s) on %s" % (queue, self.namespace, self.address)
            # Workflow pollers: a worker busy with activities still polls for workflow tasks.
            polled = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=self.namespace,
                    task_queue=TaskQueue(name=queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                )
            )
            now = time.time()
            fresh = [p for p in polled.pollers if now - p.last_access_time.ToSeconds() < POLLER_FRESH_SECONDS]
            if not fresh:
                return "no worker polls %s" % where
            pending = described.raw_description.pending_workflow_task
            if described.raw_description.HasField("pending_workflow_task"):
                waited = now - pending.scheduled_time.ToSeconds()
                if pending.state == PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED and waited > WORKFLOW_TASK_STUCK_SECONDS:
                    return "the worker that polled %s stopped taking work (a workflow task of the run has waited %.0f s)" % (
                        where,
                        waited,
                    )
            return None

        return self.run_async(ask(), timeout=10.0)

    def worker_command(self, run_id: Optional[str] = None) -> Optional[str]:
        queue = self._run_queues.get(run_id or "", self.task_queue)
        return " ".join(
            shlex.quote(part)
            for part in (
                sys.executable, "-m", WORKER_MODULE,
                "--address", self.address, "--namespace", self.namespace, "--task-queue", queue,
            )
        )
