"""USER-OWNED: the Temporal worker -- the plan workflow and the task activity.

Run it next to the Temporal server (the devstack does):
    python -m metaflow_extensions.temporal.plugins.temporal.engine_worker --address 127.0.0.1:7233
The workflow only hands the plan to the template's engine-agnostic `execute_plan`; each task
is an activity that calls `run_task` with Temporal's retries sized from the step's budget.
A run that succeeded publishes its "finished" event (activity `publish_run_finished`), which
starts the deployments with @trigger_on_finish on this flow (orchestrator/events.py).
Scale: a foreach too large for one workflow history (51,200 events, 2,000 pending activities)
runs in batches, each a child workflow running `execute_batch` (the plumbing decides when and
how to cut; `executor.BATCH_TASKS` / `WORKFLOW_TASKS`). Terminating the run terminates them too.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import threading
from datetime import timedelta
from typing import Any, Dict, List, Optional

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():  # plumbing runs outside the sandbox's re-import
    from .engine import WORKFLOW, WORKFLOW_TASK_TIMEOUT_SECONDS, Engine
    from .names import ENGINE_NAME, ENV_PREFIX, RUN_ID_PREFIX
    from .orchestrator import events, executor, ids, local_driver, task_runner
    from .orchestrator.errors import EngineUnreachable

HEARTBEAT_SECONDS = 10
BATCH_WORKFLOW = WORKFLOW + "Batch"  # a child workflow: one batch of a large foreach
_ENGINE_ENV: Dict[str, str] = {}  # the worker's --address/--namespace/--task-queue, for activities


@activity.defn(name="run_metaflow_task")
async def run_metaflow_task(spec: Dict[str, Any]) -> Dict[str, Any]:
    attempt = ids.zero_based_attempt(activity.info().attempt, 1)  # Temporal counts from 1 (O15)
    cancel = threading.Event()
    job = asyncio.get_running_loop().run_in_executor(
        None, lambda: task_runner.run_task(spec, attempt, cancel=cancel)
    )
    try:
        while not (await asyncio.wait({job}, timeout=HEARTBEAT_SECONDS))[0]:
            activity.heartbeat()
        return job.result()
    except asyncio.CancelledError:
        cancel.set()  # the run was terminated: kill the task's process group
        raise


@activity.defn(name="publish_run_finished")
async def publish_run_finished(plan: Dict[str, Any], run_id: str) -> List[str]:
    """Start the flows waiting (@trigger_on_finish) for this successful run; their pathspecs."""
    engine = Engine(_ENGINE_ENV)
    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: events.publish_run_finished(engine, plan, run_id, log=activity.logger.info)
    )


async def run_task(spec: Dict[str, Any]) -> Dict[str, Any]:
    """One task as an activity, with Temporal's retries sized from the step's budget."""
    wait = max(1.0, 60.0 * float(spec["retry"].get("minutes_between_retries") or 0))
    return await workflow.execute_activity(
        run_metaflow_task,
        spec,
        start_to_close_timeout=timedelta(
            seconds=float(spec["time_limit_seconds"]) + 2 * task_runner.TIME_LIMIT_SLACK_SECONDS
        ),
        heartbeat_timeout=timedelta(seconds=6 * HEARTBEAT_SECONDS),
        retry_policy=RetryPolicy(
            maximum_attempts=local_driver.attempts_allowed(spec),
            initial_interval=timedelta(seconds=wait),
            backoff_coefficient=1.0,
        ),
    )


async def run_batch(batch: Dict[str, Any]) -> Dict[str, Any]:
    """One batch of a large foreach as a child workflow (its own history and activity limits)."""
    info = workflow.info()
    return await workflow.execute_child_workflow(
        BATCH_WORKFLOW, batch, id="%s.%s" % (info.workflow_id, batch["name"]), task_queue=info.task_queue,
        task_timeout=timedelta(seconds=WORKFLOW_TASK_TIMEOUT_SECONDS),
    )


@workflow.defn(name=WORKFLOW)
class PlanWorkflow:
    @workflow.run
    async def run(self, plan: Dict[str, Any], run_id: Optional[str], params: Dict[str, str]) -> Dict[str, Any]:
        # Scheduled runs get no run id: derive a valid one from the workflow id (O19).
        run_id = run_id or ids.make_run_id(RUN_ID_PREFIX, workflow.info().workflow_id)
        try:
            result = await executor.execute_plan(plan, run_id, params, run_task, run_batch=run_batch)
        except Exception as exc:  # fail the run (not the workflow task, which would retry forever)
            raise ApplicationError("run %s failed: %s" % (run_id, exc.__cause__ or exc), non_retryable=True)
        try:  # as Argo's safe_publish: a publishing problem never fails the finished run
            result["triggered"] = await workflow.execute_activity(
                publish_run_finished,
                args=[events.finished_event_plan(plan), run_id],
                start_to_close_timeout=timedelta(seconds=120),
                retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=2)),
            )
        except Exception as exc:  # noqa: BLE001 -- logged in the run's history and the worker log
            workflow.logger.warning("run %s succeeded but its finished event was not published: %s", run_id, exc)
            result["triggered_error"] = str(exc.__cause__ or exc)
        return result


@workflow.defn(name=BATCH_WORKFLOW)
class BatchWorkflow:
    @workflow.run
    async def run(self, batch: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return await executor.execute_batch(batch, run_task, run_batch=run_batch)
        except Exception as exc:  # fails the parent run's batch (never a workflow-task retry loop)
            raise ApplicationError("batch %s failed: %s" % (batch.get("name"), exc.__cause__ or exc), non_retryable=True)


async def serve(address: str, namespace: str, task_queue: str, ready_file: Optional[str], max_tasks: int) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    client = await Client.connect(address, namespace=namespace)
    module = importlib.import_module(__spec__.name if __spec__ else __name__)  # not __main__
    module._ENGINE_ENV.update(  # the activities are the imported module's: fill ITS settings
        {ENV_PREFIX + "ADDRESS": address, ENV_PREFIX + "NAMESPACE": namespace, ENV_PREFIX + "TASK_QUEUE": task_queue}
    )
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[module.PlanWorkflow, module.BatchWorkflow],
        activities=[module.run_metaflow_task, module.publish_run_finished],
        max_concurrent_activities=max_tasks,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with worker:
        if ready_file:
            with open(ready_file, "w", encoding="utf-8") as handle:
                handle.write("ready\n")
        print("worker polling task queue %r on %s" % (task_queue, address), flush=True)
        await stop.wait()


def main(argv: Optional[list] = None) -> None:
    engine = Engine()
    parser = argparse.ArgumentParser(description="Temporal worker running Metaflow flows.")
    parser.add_argument("--address", default=engine.address)
    parser.add_argument("--namespace", default=engine.setting("NAMESPACE", "default"))
    parser.add_argument("--task-queue", default=engine.task_queue)
    parser.add_argument("--ready-file", default=None, help="Written once the worker polls.")
    parser.add_argument("--max-tasks", type=int, default=4, help="Tasks run at the same time.")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.address, args.namespace, args.task_queue, args.ready_file, args.max_tasks))
    except RuntimeError as exc:
        if "connect" in str(exc).lower():  # the SDK's connect error is a transport dump: say it plainly
            if args.address == engine.address:
                problem = engine.unreachable(args.address, str(exc))
            else:
                problem = EngineUnreachable(ENGINE_NAME, args.address, str(exc), source="--address")
            raise SystemExit("worker cannot start: %s" % problem)
        raise SystemExit("worker cannot start: %s" % str(exc).splitlines()[0])


if __name__ == "__main__":
    main()
