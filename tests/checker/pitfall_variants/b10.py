"""B10: the env forwarded to remote tasks lacks METAFLOW_SERVICE_URL / METAFLOW_DEFAULT_METADATA."""

from . import bad, good

_DECO = '''
from metaflow.decorators import StepDecorator

class SlurmishDecorator(StepDecorator):
    name = "slurmish"
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["slurmish", "step"]
'''

CASES = [
    bad(
        "B10", "MFX326", "whitelist of names copied from the launcher",
        {
            "ext/backend/slurmish_decorator.py": _DECO,
            "ext/backend/job.py": '''
import os

FORWARDED = [  # <-
    "METAFLOW_USER",
    "METAFLOW_DATASTORE_SYSROOT_S3",
    "METAFLOW_DEFAULT_DATASTORE",
    "AWS_DEFAULT_REGION",
]

def job_env():
    return {k: os.environ[k] for k in FORWARDED if k in os.environ}
''',
        },
    ),
    bad(
        "B10", "MFX326", "env dict built from config constants",
        {
            "ext/backend/slurmish_decorator.py": _DECO,
            "ext/backend/submit.py": '''
from metaflow.metaflow_config import DATASTORE_SYSROOT_S3, DEFAULT_DATASTORE

def submit(client, cmd, user, code_url):
    env = {  # <-
        "METAFLOW_USER": user,
        "METAFLOW_CODE_URL": code_url,
        "METAFLOW_DEFAULT_DATASTORE": DEFAULT_DATASTORE,
        "METAFLOW_DATASTORE_SYSROOT_S3": DATASTORE_SYSROOT_S3,
    }
    # the metadata service (METAFLOW_SERVICE_URL) is configured on the cluster, see docs
    return client.submit(cmd, environment=env)
''',
        },
    ),
    bad(
        "B10", "MFX326", "tuple of names as env list entries",
        {
            "ext/backend/slurmish_decorator.py": _DECO,
            "ext/backend/slurm_cli.py": '''
import os

def export_flags():
    names = ("METAFLOW_USER", "METAFLOW_CODE_SHA", "METAFLOW_CODE_URL")  # <-
    return ["--export=" + ",".join("%s=%s" % (n, os.environ.get(n, "")) for n in names)]
''',
        },
    ),
    good(
        "B10", "MFX326", "both forwarded, one through a helper module",
        {
            "ext/backend/slurmish_decorator.py": _DECO,
            "ext/backend/job.py": '''
import os
from metaflow.metaflow_config import DEFAULT_METADATA
from .service import service_env

FORWARDED = ["METAFLOW_USER", "METAFLOW_DEFAULT_DATASTORE"]

def job_env():
    env = {k: os.environ[k] for k in FORWARDED if k in os.environ}
    env.update(service_env(), METAFLOW_DEFAULT_METADATA=DEFAULT_METADATA)
    return env
''',
            "ext/backend/service.py": '''
from metaflow.metaflow_config import SERVICE_INTERNAL_URL

def service_env():
    return {"METAFLOW_SERVICE_URL": SERVICE_INTERNAL_URL} if SERVICE_INTERNAL_URL else {}
''',
        },
    ),
    good(
        "B10", "MFX326", "every METAFLOW_ variable forwarded by prefix",
        {
            "ext/backend/slurmish_decorator.py": _DECO,
            "ext/backend/job.py": '''
import os

KEEP = ("METAFLOW_USER", "METAFLOW_CODE_URL")

def job_env():
    return {k: v for k, v in os.environ.items() if k.startswith("METAFLOW_")}
''',
        },
    ),
    good(
        "B10", "MFX326", "a list of names kept out of the job",
        {
            "ext/backend/slurmish_decorator.py": _DECO,
            "ext/backend/job.py": '''
import os

EXCLUDED_VARS = ["METAFLOW_DATASTORE_SYSROOT_LOCAL", "METAFLOW_RUNTIME_ENVIRONMENT"]

def job_env(env):
    for k in EXCLUDED_VARS:
        env.pop(k, None)
    return env
''',
        },
    ),
    good(
        "B10", "MFX326", "an orchestrator's env (not a compute backend)",
        {
            "ext/orchestrator/plan.py": '''
def task_env(user, ds):
    return {"METAFLOW_USER": user, "METAFLOW_DEFAULT_DATASTORE": ds}
''',
        },
    ),
]
