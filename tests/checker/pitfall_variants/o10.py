"""O10: parameters collected from ``_get_parameters()`` in one place, emitted as options in another."""

from . import bad, good

CASES = [
    bad(
        "O10", "MFX223", "collector module, emitter module, f-string options",
        {
            "orch/params.py": '''
def collect(flow):
    out = []
    for name, param in flow._get_parameters():
        out.append((name, param))
    return out
''',
            "orch/commands.py": '''
from .params import collect

def init_args(flow, values):
    args = []
    for name, _ in collect(flow):  # <-
        args.append(f"--{name}={values[name]}")
    return args
''',
        },
    ),
    bad(
        "O10", "MFX223", "stored on self in one method, emitted in another",
        {"orch/compiler.py": '''
class Compiler:
    def __init__(self, flow):
        self.flow = flow
        self._params = dict(flow._get_parameters())

    def init_env(self, values):
        return {"METAFLOW_INIT_" + k.upper(): values[k] for k in self._params}  # <-
'''},
    ),
    bad(
        "O10", "MFX223", "local copy of the call, loop in the same function",
        {"orch/trigger.py": '''
def trigger_cmd(flow, kwargs):
    params = list(flow._get_parameters())
    cmd = ["init"]
    for name, param in params:  # <-
        if name in kwargs:
            cmd += ["--" + name, str(kwargs[name])]
    return cmd
'''},
    ),
    bad(
        "O10", "MFX223", "collection passed through a caller into an option builder",
        {
            "orch/deployer.py": '''
def parameter_specs(flow):
    return [{"name": n, "default": p.kwargs.get("default")} for n, p in flow._get_parameters()]

def create(flow, values):
    specs = parameter_specs(flow)
    return build_init(specs, values)

def build_init(specs, values):
    return ["--{}".format(s["name"]) + "=" + str(values[s["name"]]) for s in specs]  # <-
''',
        },
    ),
    good(
        "O10", "MFX223", "collector skips configs; emitter elsewhere",
        {
            "orch/params.py": '''
def collect(flow):
    return [(n, p) for n, p in flow._get_parameters() if not p.IS_CONFIG_PARAMETER]
''',
            "orch/commands.py": '''
from .params import collect

def init_args(flow, values):
    return [f"--{n}={values[n]}" for n, _ in collect(flow)]
''',
        },
    ),
    good(
        "O10", "MFX223", "unfiltered collection, emitter skips configs",
        {"orch/compiler.py": '''
class Compiler:
    def __init__(self, flow):
        self._params = list(flow._get_parameters())

    def init_args(self, values):
        out = []
        for name, param in self._params:
            if param.IS_CONFIG_PARAMETER:
                continue
            out += ["--" + name, values[name]]
        return out
'''},
    ),
    good(
        "O10", "MFX223", "unfiltered collection used for a schema, not for options",
        {
            "orch/params.py": '''
def collect(flow):
    return {n: p for n, p in flow._get_parameters()}
''',
            "orch/ui.py": '''
from .params import collect

def schema(flow):
    return {"properties": {n: {"type": "string", "description": p.kwargs.get("help")} for n, p in collect(flow).items()}}
''',
        },
    ),
    good(
        "O10", "MFX223", "isinstance(param, Config) on the unpacked param",
        {"orch/params.py": '''
from metaflow import Config

def init_args(flow, values):
    params = [(n, p) for n, p in flow._get_parameters() if not isinstance(p, Config)]
    return [f"--{n}" for n, _ in params if n in values]
'''},
    ),
]
