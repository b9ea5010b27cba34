"""USER-OWNED: the Temporal API calls of this extension (`copier update` never rewrites this file).

Each deployment is a Temporal Schedule (id = deployment name) whose memo holds the deployment
record; it is paused unless the flow has @schedule. A run is one execution of the generic plan
workflow of `engine_worker.py` with workflow id = Metaflow run id. The temporalio SDK is
imported inside methods only, so `import metaflow` works without it (pitfall O5).
Settings: METAFLOW_TEMPORAL_ADDRESS, _NAMESPACE, _TASK_QUEUE (env or Metaflow config).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from .orchestrator.deployment import DeploymentRecord
from .orchestrator.engine_api import EngineAPI
from .orchestrator.errors import EngineUnreachable

WORKFLOW = "MetaflowPlanWorkflow"  # registered by engine_worker.py
MEMO_KEY = "metaflow_deployment"


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

    @property
    def address(self) -> str:
        return self.setting("ADDRESS", "127.0.0.1:7233") or ""

    @property
    def task_queue(self) -> str:
        return self.setting("TASK_QUEUE", "metaflow-temporal") or ""

    async def client(self) -> Any:
        from temporalio.client import Client

        try:
            return await Client.connect(self.address, namespace=self.setting("NAMESPACE", "default"))
        except RuntimeError as exc:
            raise EngineUnreachable("Temporal", self.address, str(exc).splitlines()[0])

    def check_reachable(self, timeout: float = 20.0) -> None:
        self.run_async(self.client(), timeout)

    def deploy(self, record: DeploymentRecord) -> None:
        from temporalio.client import Schedule, ScheduleActionStartWorkflow, ScheduleSpec, ScheduleState

        cron = record.schedule
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                WORKFLOW, args=[record.plan, None, {}], id=record.name, task_queue=self.task_queue
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
                WORKFLOW, args=[record.plan, run_id, params], id=run_id, task_queue=self.task_queue
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
