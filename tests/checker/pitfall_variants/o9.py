"""O9: trigger parameters parsed into a local that goes nowhere; an ``init`` with no parameter options."""

from . import bad, good

_CLI = '''
import json
from metaflow import parameters
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(name="kestrel")
@click.pass_obj
def kestrel(obj):
    pass

@kestrel.command()
@click.pass_obj
def create(obj):
    pass

@parameters.add_custom_parameters(deploy_mode=False)
@kestrel.command(help="Trigger a run.")
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_obj
'''

CASES = [
    # -- MFX224: parsed, never passed on --------------------------------------------------------
    bad(
        "O9", "MFX224", "json-encoded into a local, execution started without it",
        {"orch/cli.py": _CLI + '''def trigger(obj, deployer_attribute_file=None, **kwargs):
    payload = json.dumps({k: v for k, v in kwargs.items() if v is not None})  # <-
    execution = obj.client.executions.create(namespace=obj.ns, flow_id=obj.flow_id)
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": obj.name, "metadata": "{}"}, f)
'''},
    ),
    bad(
        "O9", "MFX224", "copied key by key into a dict that is only updated",
        {"orch/cli.py": _CLI + '''def trigger(obj, deployer_attribute_file=None, **flow_params):
    inputs = {}
    for key, value in flow_params.items():
        inputs[key] = str(value)  # <-
    inputs.update(run_source="deployer")
    run = obj.engine.run(obj.flow_name)
    return run
'''},
    ),
    bad(
        "O9", "MFX224", "**kwargs accepted and never read",
        {"orch/cli.py": _CLI + '''def trigger(obj, deployer_attribute_file=None, **kwargs):  # <-
    run_id = obj.client.start(obj.flow_name)
    obj.echo("started %s" % run_id)
'''},
    ),
    good(
        "O9", "MFX224", "parsed into a local that reaches the scheduler",
        {"orch/cli.py": _CLI + '''def trigger(obj, deployer_attribute_file=None, **kwargs):
    inputs = {}
    for key, value in kwargs.items():
        if value is not None:
            inputs[key] = json.dumps(value)
    obj.client.start(obj.flow_name, inputs=inputs)
'''},
    ),
    good(
        "O9", "MFX224", "passed straight to a helper",
        {"orch/cli.py": _CLI + '''def trigger(obj, deployer_attribute_file=None, **kwargs):
    _start(obj, kwargs)

def _start(obj, params):
    obj.client.start(obj.flow_name, params)
'''},
    ),
    good(
        "O9", "MFX224", "stored on the object the scheduler reads",
        {"orch/cli.py": _CLI + '''def trigger(obj, deployer_attribute_file=None, **kwargs):
    params = {k: v for k, v in kwargs.items() if v is not None}
    obj.pending_parameters = params
    obj.submit()
'''},
    ),
    # -- MFX225: init with no parameter options -------------------------------------------------
    bad(
        "O9", "MFX225", "worker init with fixed options only, params shipped elsewhere",
        {
            "orch/worker.py": '''
import subprocess, sys

def run_init(flow_file, run_id, params_json):
    cmd = [sys.executable, flow_file, "--quiet", "--no-pylint",
           "init",  # <-
           "--run-id", run_id, "--task-id", "_parameters"]
    subprocess.run(cmd, check=True, env={"FLOW_PARAMS": params_json})
''',
        },
    ),
    bad(
        "O9", "MFX225", "init as one shell string in a script",
        {
            "orch/script.py": '''
def init_script(flow_file, run_id):
    return "python %s init --run-id %s --task-id _parameters" % (flow_file, run_id)  # <-
''',
        },
    ),
    good(
        "O9", "MFX225", "parameters appended by a helper in another module (f-string names)",
        {
            "orch/worker.py": '''
from .params import param_args

def run_init(flow_file, run_id, params):
    return [flow_file, "init", "--run-id", run_id, "--task-id", "_parameters", *param_args(params)]
''',
            "orch/params.py": '''
def param_args(params):
    return [a for k, v in params.items() for a in (f"--{k}", str(v))]
''',
        },
    ),
    good(
        "O9", "MFX225", "parameters as METAFLOW_INIT_ variables",
        {
            "orch/worker.py": '''
import subprocess

def run_init(flow_file, run_id, params):
    env = {"METAFLOW_INIT_%s" % k.upper().replace("-", "_"): str(v) for k, v in params.items()}
    subprocess.run(["python", flow_file, "init", "--run-id", run_id, "--task-id", "_parameters"], env=env)
''',
        },
    ),
    good(
        "O9", "MFX225", "the word init without --task-id (not a Metaflow init)",
        {"orch/git.py": '''
def repo(path):
    return ["git", "init", "--quiet", path]
'''},
    ),
]
