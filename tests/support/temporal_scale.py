"""Scale runs on a generated Temporal preset: a dev server, a worker, wide foreach runs.

Shared by the 1,000-wide no-op test (tests/compliance/test_temporal_preset.py) and the scale
bench (benchmarks/orchestrator/bench_temporal_scale.py). No-op runs set the plumbing's benchmark
mode (``<ENV_PREFIX>BENCHMARK_NOOP_TASKS``) in the worker only: the engine's real workflow,
child workflows and activities run, the task runner launches no Metaflow process and appends one
line per task to a ledger.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

from support.generate import run

MODULE = "temporal"  # the preset's module name with the default answers
ENV_PREFIX = "METAFLOW_%s_" % MODULE.upper()
NOOP_ENV = ENV_PREFIX + "BENCHMARK_NOOP_TASKS"
WIDE_FLOW = '''from metaflow import FlowSpec, Parameter, step


class WideFlow(FlowSpec):
    width = Parameter("width", type=int, default=3)

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.doubled = 2 * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.count = sum(1 for _ in inputs)  # Inputs is iterable, it has no len()
        self.total = sum(i.doubled for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    WideFlow()
'''

# Waits for a run and reports every workflow of it (the run and its batch child workflows).
DESCRIBE = r'''
import asyncio, json, sys
from temporalio.client import Client

async def main(address, run_id, timeout):
    client = await Client.connect(address)
    handle = client.get_workflow_handle(run_id)
    try:
        result, error = await asyncio.wait_for(handle.result(), timeout), None
    except Exception as exc:
        result, error = None, "%s: %s" % (type(exc).__name__, getattr(exc, "cause", None) or exc)
    workflows, todo = [], [run_id]
    while todo:
        wid = todo.pop()
        info = (await client.get_workflow_handle(wid).describe()).raw_description.workflow_execution_info
        workflows.append({"id": wid, "events": info.history_length, "bytes": info.history_size_bytes,
                          "seconds": (info.close_time.ToDatetime() - info.start_time.ToDatetime()).total_seconds()
                          if info.HasField("close_time") else None})
        async for event in client.get_workflow_handle(wid).fetch_history_events():
            if event.HasField("child_workflow_execution_started_event_attributes"):
                todo.append(event.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id)
    print(json.dumps({"result": result, "error": error, "workflows": workflows}))

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
sys.stdout.flush()
import os
os._exit(0)  # the Temporal client's core threads may abort the interpreter's finalization
'''


def rss_mb(pid: int) -> Optional[float]:
    """Resident memory of a process (Linux /proc), in MB."""
    try:
        for line in Path("/proc/%d/status" % pid).read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        return None
    return None


class Stack:
    """A Temporal dev server from the generated repo's devstack (without its worker) and workers."""

    def __init__(self, repo: Path, bin_dir: Path, state: Path, *, in_memory: bool = True) -> None:
        self.repo, self.bin_dir, self.state = repo, bin_dir, state
        self.python = str(bin_dir / "python")
        self.base_env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                         "VIRTUAL_ENV": str(bin_dir.parent), "USERNAME": os.environ.get("USERNAME") or "tester"}
        self.base_env.pop(NOOP_ENV, None)
        services = json.loads((repo / "devstack" / "services.json").read_text())
        self.worker_cmd: List[str] = next(s for s in services["services"] if s["name"] == "worker")["command"]
        services["services"] = [s for s in services["services"] if s["name"] != "worker"]
        if in_memory:  # `temporal server start-dev` without --db-filename: state in memory, no disk syncs
            for service in services["services"]:
                cmd = service["command"]
                if "--db-filename" in cmd:
                    at = cmd.index("--db-filename")
                    service["command"] = cmd[:at] + cmd[at + 2 :]
        state.mkdir(parents=True, exist_ok=True)
        self.services_file = state / "server-only.json"
        self.services_file.write_text(json.dumps(services))
        self.workers: List[subprocess.Popen] = []
        self.env: Dict[str, str] = {}

    def devstack(self, action: str) -> subprocess.CompletedProcess:
        cmd = [self.python, "devstack/run.py", action, "--state-dir", str(self.state / "stack"), "--services", str(self.services_file)]
        return run(cmd, cwd=self.repo, env=self.base_env, timeout=180)

    def up(self) -> None:
        done = self.devstack("up")
        if done.returncode != 0:
            raise RuntimeError("Temporal dev server did not start:\n%s\n%s" % (done.stdout, done.stderr))
        self.env = {**self.base_env, **json.loads((self.state / "stack" / "env.json").read_text())}

    def server_pid(self) -> Optional[int]:
        for pid_file in (self.state / "stack").glob("*.pid"):
            if "temporal" in pid_file.name:
                try:
                    return int(pid_file.read_text().strip())
                except ValueError:
                    return None
        return None

    def down(self) -> None:
        for worker in self.workers:
            stop(worker)
        self.devstack("down")

    def queue_env(self, queue: str) -> Dict[str, str]:
        return {**self.env, ENV_PREFIX + "TASK_QUEUE": queue}

    def start_worker(self, queue: str, *, noop: Optional[Dict[str, Any]] = None, max_tasks: int = 4) -> subprocess.Popen:
        tag = uuid.uuid4().hex[:8]
        ready = self.state / ("worker-%s.ready" % tag)
        cmd = [p.replace("{python}", self.python).replace("{state_dir}", str(self.state)).replace("{project}", str(self.repo)) for p in self.worker_cmd]
        cmd = [str(ready) if p.endswith("worker.ready") else p for p in cmd] + ["--max-tasks", str(max_tasks)]
        env = self.queue_env(queue)
        if noop is not None:
            env[NOOP_ENV] = json.dumps(noop)
        log = open(self.state / ("worker-%s.log" % tag), "w")
        worker = subprocess.Popen(cmd, cwd=self.repo, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.workers.append(worker)
        deadline = time.monotonic() + 120
        while not ready.exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                stop(worker)
                raise RuntimeError("worker did not become ready: %s" % (self.state / ("worker-%s.log" % tag)).read_text()[-2000:])
            time.sleep(0.3)
        return worker

    def flow_cli(self, flow: Path, queue: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """The flow's ``<plugin> ...`` command; on a saturated machine an RPC may miss the CLI's
        connect timeout, so an unreachable engine is retried twice."""
        for _ in range(3):
            done = run([self.python, str(flow), "--quiet", MODULE, *args], cwd=flow.parent, env=self.queue_env(queue), timeout=timeout)
            if done.returncode == 0 or "no answer within" not in done.stderr:
                return done
        return done

    def trigger(self, flow: Path, queue: str, *params: str) -> str:
        """Deploy ``flow`` (once per queue is enough; harmless again) and start a run; its run id."""
        created = self.flow_cli(flow, queue, "create")
        if created.returncode != 0:
            raise RuntimeError("create failed:\n%s\n%s" % (created.stdout, created.stderr))
        id_file = flow.parent / ("run-id-%s" % uuid.uuid4().hex[:8])
        started = self.flow_cli(flow, queue, "trigger", "--run-id-file", str(id_file), *params)
        if started.returncode != 0:
            raise RuntimeError("trigger failed:\n%s\n%s" % (started.stdout, started.stderr))
        return id_file.read_text().strip()

    def wait(self, run_id: str, timeout: float) -> Dict[str, Any]:
        """The run's result (or error) and every workflow of it: events, bytes, seconds."""
        done = run([self.python, "-c", DESCRIBE, self.env[ENV_PREFIX + "ADDRESS"], run_id, str(timeout)], cwd=self.repo, env=self.env, timeout=timeout + 300)
        if done.returncode != 0:
            raise RuntimeError("could not read run %s:\n%s" % (run_id, done.stderr[-3000:]))
        return json.loads(done.stdout.strip().splitlines()[-1])


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def read_ledger(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
