"""O2: the trigger's pathspec run id derived differently from the id the tasks use."""

from . import bad, good

_TRIGGER_HEAD = "import json, os, uuid, hashlib, time\n\n"

CASES = [
    bad(
        "O2", "MFX226", "fresh uuid in trigger, hash of the execution id in the worker",
        {
            "orch/cli.py": _TRIGGER_HEAD + '''
def trigger(obj, deployer_attribute_file=None, **kwargs):
    run_id = "pf-" + uuid.uuid4().hex[:10]
    flow_run = obj.client.create_flow_run(obj.deployment_id, parameters=kwargs)
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": obj.name, "metadata": obj.meta,
                   "pathspec": f"{obj.flow_name}/{run_id}"}, f)  # <-
''',
            "orch/worker.py": '''
import hashlib

def metaflow_run_id(flow_run_id):
    return "pf-" + hashlib.sha256(flow_run_id.encode()).hexdigest()[:10]

def step_cmd(flow_run_id, step, task_id):
    return ["python", "flow.py", "step", step, "--run-id", metaflow_run_id(flow_run_id),
            "--task-id", task_id]
''',
        },
    ),
    bad(
        "O2", "MFX226", "full execution id vs a slice of it, payload in a local",
        {
            "orch/cli.py": _TRIGGER_HEAD + '''
def trigger(obj, deployer_attribute_file=None, **kwargs):
    job = obj.api.run_job(obj.job_name, kwargs)
    run_id = "wm-%s" % job["id"]
    payload = {
        "name": obj.name,
        "metadata": "{}",
        "pathspec": "/".join([obj.flow_name, run_id]),  # <-
    }
    with open(deployer_attribute_file, "w") as f:
        json.dump(payload, f)
''',
            "orch/script.py": '''
def step_args(job_id, step, task_id):
    rid = "wm-" + job_id[:8]
    return ["step", step, "--run-id=%s" % rid, "--task-id=%s" % task_id]
''',
        },
    ),
    bad(
        "O2", "MFX226", "trigger reads an env var nobody sets on the client",
        {
            "orch/cli.py": _TRIGGER_HEAD + '''
def trigger(obj, deployer_attribute_file=None, **kwargs):
    obj.client.start(obj.name, kwargs)
    run_id = os.environ.get("ORCH_EXECUTION_RUN_ID", "")
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": obj.name, "metadata": "{}", "pathspec": obj.flow_name + "/" + run_id}, f)  # <-
''',
            "orch/worker.py": '''
def step_cmd(execution, step, task_id):
    return ["step", step, "--run-id", "orch-" + execution.id, "--task-id", task_id]
''',
        },
    ),
    bad(
        "O2", "MFX226", "timestamp id in trigger vs hashed id in a helper of the tasks",
        {
            "orch/cli.py": _TRIGGER_HEAD + '''
def trigger(obj, deployer_attribute_file=None, **kwargs):
    rid = "dg-%d" % int(time.time() * 1000)
    obj.client.submit(obj.job, run_config=kwargs)
    with open(deployer_attribute_file, "w") as f:
        f.write(json.dumps({"name": obj.name, "metadata": "{}",
                            "pathspec": "{}/{}".format(obj.flow_name, rid)}))  # <-
''',
            "orch/ops.py": '''
import zlib

def _rid(context):
    return "dg-%d" % zlib.crc32(context.run_id.encode())

def build(context, step, task_id):
    run_id = _rid(context)
    return ["step", step, "--run-id", run_id, "--task-id", task_id]
''',
        },
    ),
    good(
        "O2", "MFX226", "uuid made in trigger and handed to the execution",
        {
            "orch/cli.py": _TRIGGER_HEAD + '''
def trigger(obj, deployer_attribute_file=None, **kwargs):
    run_id = "pf-" + uuid.uuid4().hex[:10]
    obj.client.create_flow_run(obj.deployment_id, parameters=dict(kwargs, metaflow_run_id=run_id))
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": obj.name, "metadata": obj.meta, "pathspec": f"{obj.flow_name}/{run_id}"}, f)
''',
            "orch/worker.py": '''
def step_cmd(params, step, task_id):
    return ["step", step, "--run-id", params["metaflow_run_id"], "--task-id", task_id]
''',
        },
    ),
    good(
        "O2", "MFX226", "both sides hash the execution id the same way",
        {
            "orch/cli.py": _TRIGGER_HEAD + '''
from .ids import run_id_for

def trigger(obj, deployer_attribute_file=None, **kwargs):
    ex = obj.client.start(obj.name, kwargs)
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": obj.name, "metadata": "{}", "pathspec": "%s/%s" % (obj.flow_name, run_id_for(ex.id))}, f)
''',
            "orch/ids.py": '''
import hashlib

def run_id_for(execution_id):
    return "k-" + hashlib.md5(execution_id.encode()).hexdigest()[:12]
''',
            "orch/worker.py": '''
from .ids import run_id_for

def step_cmd(execution_id, step, task_id):
    return ["step", step, "--run-id", run_id_for(execution_id), "--task-id", task_id]
''',
        },
    ),
    good(
        "O2", "MFX226", "same slice on both sides; a hashed task id is not the run id",
        {
            "orch/cli.py": _TRIGGER_HEAD + '''
def trigger(obj, deployer_attribute_file=None, **kwargs):
    job = obj.api.run_job(obj.job_name, kwargs)
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": obj.name, "metadata": "{}", "pathspec": obj.flow_name + "/wm-" + job["id"][:8]}, f)
''',
            "orch/script.py": '''
import hashlib

def step_args(job_id, step, split):
    task_id = hashlib.md5(("%s-%s" % (step, split)).encode()).hexdigest()[:10]
    return ["step", step, "--run-id", "wm-" + job_id[:8], "--task-id", task_id]
''',
        },
    ),
    good(
        "O2", "MFX226", "env var read by the trigger is one the project sets for it",
        {
            "orch/cli.py": _TRIGGER_HEAD + '''
import subprocess

def trigger(obj, deployer_attribute_file=None, **kwargs):
    run_id = os.environ.get("ORCH_RUN_ID") or obj.new_run_id()
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": obj.name, "metadata": "{}", "pathspec": obj.flow_name + "/" + run_id}, f)

def launch(cmd, run_id):
    subprocess.run(cmd, env={"ORCH_RUN_ID": run_id}, check=True)
''',
        },
    ),
    good(
        "O2", "MFX226", "pathspec of a known run id; a helper strips a name prefix (not a truncation)",
        {
            "orch/deployer_objects.py": '''
import json

PREFIX = "mf-"

class Deployed:
    @classmethod
    def from_deployment(cls, identifier):
        name = identifier[len(PREFIX):]
        return cls(name)

    @classmethod
    def get_triggered_run(cls, identifier, run_id):
        deployed = cls.from_deployment(identifier)
        return json.dumps({"name": run_id, "metadata": "{}", "pathspec": "%s/%s" % (deployed.flow_name, run_id)})
''',
            "orch/worker.py": '''
def step_cmd(run_id, step, task_id):
    return ["step", step, "--run-id", run_id, "--task-id", task_id]
''',
        },
    ),
]
