"""O15: 1-based attempt counters beyond a fixed list, and a manual retry loop on top of native retries."""

from . import bad, good

CASES = [
    # -- 1-based counters (MFX202) -----------------------------------------------------------
    bad(
        "O15", "MFX202", "job attempt number attribute through a local",
        {"orch/worker.py": '''
def step_args(job, node, run_id, task_id):
    n = job.attempt_number
    return ["step", node, "--run-id", run_id, "--task-id", task_id,
            "--retry-count", str(n)]  # <-
'''},
    ),
    bad(
        "O15", "MFX202", "camelCase attempt from a context object in an f-string",
        {"orch/worker.py": '''
def build(ctx, node):
    return f"python flow.py step {node} --retry-count {ctx.execution.attemptNumber}"  # <-
'''},
    ),
    bad(
        "O15", "MFX202", "environment variable of the platform",
        {"orch/entry.py": '''
import os

def args():
    attempt = int(os.environ.get("JOB_ATTEMPT", "1"))
    return ["--retry-count", str(attempt)]  # <-
'''},
    ),
    bad(
        "O15", "MFX202", "shell placeholder in a script block",
        {"orch/template.py": '''
def script(node):
    return "python flow.py step %s --retry-count ${GITHUB_RUN_ATTEMPT}" % node  # <-
'''},
    ),
    bad(
        "O15", "MFX202", "numbered parameter, appended in pieces",
        {"orch/opts.py": '''
def options(run_id, task_id, attempt_no):
    args = ["--run-id", run_id, "--task-id", task_id]
    args.extend(["--retry-count", str(attempt_no)])  # <-
    return args
'''},
    ),
    good(
        "O15", "MFX202", "0-based counters and subtracted attempts",
        {"orch/worker.py": '''
import os

def build(ctx, job, node, retry_attempt):
    a = ["--retry-count", str(job.attempt_number - 1)]
    b = ["--retry-count", str(os.environ.get("CLOUD_RUN_TASK_ATTEMPT", "0"))]
    c = ["--retry-count", str(retry_attempt)]
    d = "--retry-count $((JOB_ATTEMPT - 1))"
    e = ["--retry-count", str(ctx.retry_count)]
    return a, b, c, d, e
'''},
    ),
    good(
        "O15", "MFX202", "a plain `attempt` parameter (0-based by the caller) and max attempts",
        {"orch/plan.py": '''
def step_cmd(node, run_id, task_id, attempt, cfg):
    limit = cfg.max_attempts
    return ["step", node, "--run-id", run_id, "--task-id", task_id,
            "--retry-count", str(attempt), "--max-user-code-retries", str(limit)]
'''},
    ),
    good(
        "O15", "MFX202", "self.attempt of the worker's own 0-based bookkeeping",
        {"orch/runner.py": '''
class Runner:
    def cmd(self, node):
        return ["step", node, "--retry-count", str(self.attempt)]
'''},
    ),
    good(
        "O15", "MFX202", "a lower-case key of the project's own task record (0-based by its writer)",
        {"orch/worker.py": '''
def build(task):
    return ["step", task["step"], f"--retry-count={task['attempt']}"]
'''},
    ),
    # -- manual retry loop with native retries (MFX222) ---------------------------------------
    bad(
        "O15", "MFX222", "loop in the activity, RetryPolicy in the workflow",
        {
            "orch/activities.py": '''
import subprocess
from temporalio import activity

@activity.defn
def run_step(spec):
    for attempt in range(spec["retries"] + 1):
        cmd = spec["cmd"] + ["--retry-count", str(attempt)]  # <-
        if subprocess.run(cmd).returncode == 0:
            return 0
    raise RuntimeError("step failed")
''',
            "orch/workflows.py": '''
from datetime import timedelta
from temporalio.common import RetryPolicy

async def run(workflow, spec):
    return await workflow.execute_activity(
        "run_step", spec, start_to_close_timeout=timedelta(hours=1),
        retry_policy=RetryPolicy(maximum_attempts=4))
''',
        },
    ),
    bad(
        "O15", "MFX222", "loop passes its counter to the command builder; operator retries",
        {
            "orch/worker.py": '''
import subprocess

def command(node, run_id, task_id, retry_count):
    return ["python", "flow.py", "step", node, "--run-id", run_id, "--task-id", task_id,
            "--retry-count", str(retry_count)]

def execute(node, run_id, task_id, budget):
    for i, _ in enumerate(range(budget)):
        rc = subprocess.call(command(node, run_id, task_id, i))  # <-
        if rc == 0:
            break
''',
            "orch/dag.py": '''
def operator_kwargs(node):
    return {"task_id": node, "retries": node_retries(node), "retry_delay": 60}
''',
        },
    ),
    bad(
        "O15", "MFX222", "while loop counter, a method builder, native retries in a dict",
        {
            "orch/runner.py": '''
import subprocess

class TaskRunner:
    def cmd(self, attempt):
        return self.base + ["--retry-count=%d" % attempt]

    def run(self):
        tries = 0
        while tries <= self.max_user_retries:
            if subprocess.run(self.cmd(tries)).returncode == 0:  # <-
                return True
            tries += 1
        return False
''',
            "orch/spec.py": 'TASK_SPEC = {"image": "python", "maxRetries": 2}\n',
        },
    ),
    good(
        "O15", "MFX222", "the loop is the only retry mechanism (native retries disabled)",
        {
            "orch/activities.py": '''
import subprocess

def run_step(spec):
    for attempt in range(spec["retries"] + 1):
        cmd = spec["cmd"] + ["--retry-count", str(attempt)]
        if subprocess.run(cmd).returncode == 0:
            return 0
''',
            "orch/workflows.py": '''
from temporalio.common import RetryPolicy

async def run(workflow, spec):
    return await workflow.execute_activity("run_step", spec, retry_policy=RetryPolicy(maximum_attempts=1))
''',
        },
    ),
    good(
        "O15", "MFX222", "native retries, loop over steps (not attempts)",
        {
            "orch/compiler.py": '''
def commands(graph, run_id, retry_count):
    out = []
    for i in range(len(graph)):
        out.append(["step", graph[i], "--run-id", run_id, "--retry-count", str(retry_count)])
    return out

def task(node):
    return {"name": node, "retries": 3}
'''},
    ),
]
