"""O21: the datastore root re-resolved on the worker although ``--datastore-root`` is forwarded."""

from . import bad, good

_COMPILER = '''
def step_cmd(flow_datastore, node, run_id, task_id, attempt):
    return ["python", "flow.py", "--datastore-root=%s" % flow_datastore.datastore_root,
            "step", node, "--run-id", run_id, "--task-id", task_id, "--retry-count", attempt]
'''

CASES = [
    bad(
        "O21", "MFX221", "Temporal-style activity overriding the root from config",
        {
            "orch/compiler.py": _COMPILER,
            "orch/worker.py": '''
import asyncio
from temporalio import activity
from metaflow.metaflow_config import DATASTORE_SYSROOT_S3

@activity.defn
async def run_task(spec: dict) -> int:
    env = dict(spec["env"])
    env["METAFLOW_DATASTORE_SYSROOT_S3"] = DATASTORE_SYSROOT_S3  # <-
    proc = await asyncio.create_subprocess_exec(*spec["cmd"], env=env)
    return await proc.wait()
''',
        },
    ),
    bad(
        "O21", "MFX221", "entrypoint script re-deriving a local root from its cwd",
        {
            "orch/compiler.py": _COMPILER,
            "orch/entrypoint.py": '''
import os
import sys

def main(argv):
    root = os.environ.get("MF_ROOT") or os.path.join(os.getcwd(), ".metaflow")  # <-
    os.execvp(argv[0], argv + ["--datastore-root", root])

if __name__ == "__main__":
    main(sys.argv[1:])
''',
        },
    ),
    bad(
        "O21", "MFX221", "datastore class asked for its configured root in the runner",
        {
            "orch/compiler.py": _COMPILER,
            "orch/runner.py": '''
import subprocess
from metaflow.plugins.datastores.s3_storage import S3Storage

def launch(cmd, flow_name):
    ds_root = S3Storage.get_datastore_root_from_config(print)  # <-
    cmd = [c if not c.startswith("--datastore-root") else "--datastore-root=" + ds_root for c in cmd]
    return subprocess.Popen(cmd).wait()
''',
        },
    ),
    bad(
        "O21", "MFX221", "config module attribute, pathlib cwd",
        {
            "orch/compiler.py": _COMPILER,
            "orch/exec.py": '''
import subprocess
from pathlib import Path
from metaflow import metaflow_config as mfc

def execute(cmd, kind):
    if kind == "local":
        root = str(Path.cwd() / ".metaflow")  # <-
    else:
        root = mfc.DATASTORE_SYSROOT_GS  # <-
    subprocess.check_call(cmd, env={"METAFLOW_DATASTORE_SYSROOT_GS": root})
''',
        },
    ),
    good(
        "O21", "MFX221", "deploy-time compiler copying its own config into the task env",
        {"orch/compiler.py": _COMPILER + '''
from metaflow.metaflow_config import DATASTORE_SYSROOT_S3, DATASTORE_SYSROOT_GS

def task_env():
    return {"METAFLOW_DATASTORE_SYSROOT_S3": DATASTORE_SYSROOT_S3,
            "METAFLOW_DATASTORE_SYSROOT_GS": DATASTORE_SYSROOT_GS}
'''},
    ),
    good(
        "O21", "MFX221", "worker using the env var the deployer set",
        {
            "orch/compiler.py": _COMPILER,
            "orch/worker.py": '''
import os, subprocess

def run(cmd):
    env = dict(os.environ, METAFLOW_DATASTORE_SYSROOT_S3=os.environ["ORCH_DS_ROOT"])
    return subprocess.run(cmd, env=env, check=True).returncode
''',
        },
    ),
    good(
        "O21", "MFX221", "worker script that only mentions .metaflow in a message",
        {
            "orch/worker.py": '''
import os, subprocess, sys

def main():
    print("not writing to", os.path.join("/tmp", ".metaflow"))
    subprocess.run(sys.argv[1:], check=True)

if __name__ == "__main__":
    main()
''',
        },
    ),
    good(
        "O21", "MFX221", "a local DATASTORE_SYSROOT_ name that is not Metaflow's config",
        {
            "orch/worker.py": '''
import subprocess

DATASTORE_SYSROOT_S3 = "unused"

def run(cmd, root):
    subprocess.run(cmd + ["--datastore-root", root], check=True)
    return DATASTORE_SYSROOT_S3
''',
        },
    ),
    good(
        "O21", "MFX221", "backend syncing the local metadata directory back after a subprocess",
        {
            "ext/backend/deco.py": '''
import subprocess
from metaflow.metaflow_config import DATASTORE_LOCAL_DIR
from metaflow.metadata_provider.util import sync_local_metadata_to_datastore

class Deco:
    def task_finished(self, step_name, flow, graph, is_task_ok, retry_count, max_retries):
        if self.metadata.TYPE == "local":
            sync_local_metadata_to_datastore(DATASTORE_LOCAL_DIR, self.task_datastore)
        subprocess.run(["engine", "app", "stop"], check=False)
''',
        },
    ),
]
