"""The cases: every shape of :data:`command_model.SHAPES` against the command rules.

A builder is rendered per shape from the options it passes: ``top`` options go before the
``step`` sub-command, ``sub`` options after it. The ``step`` token of every builder carries the
``# <-`` mark for the project rules (the builder is where a missing piece belongs); rules about
one option mark the line of that option.
"""

from __future__ import annotations

from pitfall_variants import MARK, bad, good

ARGS = "python, flow, name, run_id, task_id, attempt, retries, tags, root, branch"
_STEP = '"step"'


def _pair(opt, value):
    return [f'"{opt}"'] + ([value] if value is not None else [])


def builder(shape: str, top=(), sub=(), mark_step=False, mark_opt=None, ids=("run_id", "task_id")) -> dict:
    """``{path: source}`` of a project whose builder assembles ``python flow.py <top> step
    <name> --run-id --task-id <sub>`` in ``shape``. ``top``/``sub``: (option, value expression or
    None for a flag). ``mark_opt``: the option whose line gets the mark."""
    step_mark = f"  {MARK}" if mark_step else ""

    def m(opt):
        return f"  {MARK}" if opt == mark_opt else ""

    base_sub = [("--run-id", ids[0]), ("--task-id", ids[1])] + list(sub)
    files = {}
    if shape == "list":
        lines = ["cmd = [", "    python,", "    flow,"]
        for o, v in top:
            lines.append("    " + ", ".join(_pair(o, v)) + "," + m(o))
        lines.append(f"    {_STEP}, name," + step_mark)
        for o, v in base_sub:
            lines.append("    " + ", ".join(_pair(o, v)) + "," + m(o))
        lines.append("]")
        body = lines + ["return cmd"]
    elif shape == "append":
        body = ["cmd = [flow]", "cmd.insert(0, python)"]
        for i, (o, v) in enumerate(top):
            if i % 2:
                body.append(f"cmd.extend([{', '.join(_pair(o, v))}])" + m(o))
            else:
                body.append(f'cmd.append("{o}")' + m(o))
                if v is not None:
                    body.append(f"cmd.append({v})")
        body.append(f"cmd += [{_STEP}, name]" + step_mark)
        for i, (o, v) in enumerate(base_sub):
            if i % 2:
                body.append(f"cmd.extend([{', '.join(_pair(o, v))}])" + m(o))
            else:
                body.append(f'cmd.append("{o}")' + m(o))
                if v is not None:
                    body.append(f"cmd.append(str({v}))")
        body.append("return cmd")
    elif shape == "concat":
        body = ['cmd = "%s %s" % (python, flow)']
        for o, v in top:
            body.append(f'cmd += " {o}"' + m(o) if v is None else f'cmd += " {o} " + str({v})' + m(o))
        body.append('cmd = cmd + " step " + name' + step_mark)
        for o, v in base_sub:
            body.append(f'cmd += " {o}"' + m(o) if v is None else f'cmd += " {o} " + str({v})' + m(o))
        body.append("return cmd")
    elif shape == "join":
        parts = []
        for o, v in top:
            parts.append(f"    + [{', '.join(_pair(o, v))}]" + m(o))
        parts.append(f"    + [{_STEP}, name]" + step_mark)
        for o, v in base_sub:
            parts.append(f"    + [{', '.join(_pair(o, v))}]" + m(o))
        body = ["import shlex", "", "script = shlex.join(", "    [python, flow]", *parts, ")",
                'return " ".join(["set -e;", script])']
    elif shape == "helper":
        helper_lines = ["def top_args(tags, root, branch):", "    out = []"]
        for o, v in top:
            helper_lines.append(f"    out += [{', '.join(_pair(o, v))}]" + m(o))
        helper_lines += ["    return out", "", "", "def task_args(run_id, task_id, attempt, retries):", "    return ["]
        for o, v in base_sub:
            helper_lines.append("        " + ", ".join(_pair(o, v)) + "," + m(o))
        helper_lines.append("    ]")
        files["orch/args.py"] = "\n".join(helper_lines) + "\n"
        body = ["from orch.args import task_args, top_args", "",
                "cmd = [python, flow] + top_args(tags, root, branch)",
                f"cmd += [{_STEP}, name]" + step_mark,
                "cmd.extend(task_args(run_id, task_id, attempt, retries))", "return cmd"]
    elif shape == "dict":
        files["orch/cliutil.py"] = (
            "def to_cli(options):\n"
            "    out = []\n"
            "    for key, value in options.items():\n"
            "        if value is True:\n"
            '            out.append("--%s" % key)\n'
            "        elif value is not None:\n"
            '            out.extend(["--" + key, str(value)])\n'
            "    return out\n"
        )
        def d(opts):
            return [f'    "{o[2:]}": {v if v is not None else "True"},' + m(o) for o, v in opts]
        body = ["from orch.cliutil import to_cli", "", "top = {", *d(top), "}",
                "opts = {", *d(base_sub), "}",
                f"return [python, flow] + to_cli(top) + [{_STEP}, name] + to_cli(opts)" + step_mark]
    elif shape == "click":
        def kw(opts):
            return [f"    {o[2:].replace('-', '_')}={v if v is not None else 'True'}," + m(o) for o, v in opts]
        body = ["from metaflow.runner.click_api import MetaflowAPI", "", "api = MetaflowAPI.from_cli(flow, None)",
                "top = api(", *kw(top), ")", "command = top.step(" + step_mark, "    step_name=name,",
                *kw(base_sub), ")", "return [python] + command"]
    else:  # pragma: no cover
        raise ValueError(shape)
    src = f"def launch({ARGS}):\n" + "".join(("    " + ln if ln else "") + "\n" for ln in body)
    files["orch/worker.py"] = src
    return files


SHAPES = ("list", "append", "concat", "join", "helper", "dict", "click")
ENV_OK = {"orch/env.py": 'def env(user, cfg):\n    return {"METAFLOW_OWNER": user, "METAFLOW_FLOW_CONFIG_VALUE": cfg}\n'}
ENV_NONE = {"orch/env.py": 'def env(user):\n    return {"HOME": "/tmp"}\n'}
#: The pieces every rule below needs, so that each case misses exactly one.
TOP_OK = [("--branch", "branch"), ("--production", None), ("--datastore-root", "root")]
SUB_OK = [("--retry-count", "attempt"), ("--max-user-code-retries", "retries")]


def _without(opts, opt):
    return [p for p in opts if p[0] not in opt]


CASES = []
for shape in SHAPES:
    # MFX203: --max-user-code-retries is a piece of the step command.
    CASES.append(bad(shape, "MFX203", "no --max-user-code-retries",
                     {**builder(shape, TOP_OK, _without(SUB_OK, ("--max-user-code-retries",)), mark_step=True), **ENV_OK}))
    CASES.append(good(shape, "MFX203", "--max-user-code-retries given", {**builder(shape, TOP_OK, SUB_OK), **ENV_OK}))
    # MFX201: a constant --retry-count.
    sub0 = [("--retry-count", "0"), ("--max-user-code-retries", "retries")]
    CASES.append(bad(shape, "MFX201", "--retry-count 0", {**builder(shape, TOP_OK, sub0, mark_opt="--retry-count"), **ENV_OK}))
    CASES.append(good(shape, "MFX201", "--retry-count from the attempt", {**builder(shape, TOP_OK, SUB_OK), **ENV_OK}))
    # MFX204: --tag before the step sub-command.
    CASES.append(bad(shape, "MFX204", "--tag before step",
                     {**builder(shape, TOP_OK + [("--tag", "tags[0]")], SUB_OK, mark_opt="--tag"), **ENV_OK}))
    CASES.append(good(shape, "MFX204", "--tag after step",
                      {**builder(shape, TOP_OK, SUB_OK + [("--tag", "tags[0]")]), **ENV_OK}))
    # MFX205: --branch/--production forwarded (here: --production missing).
    CASES.append(bad(shape, "MFX205", "--production not forwarded",
                     {**builder(shape, _without(TOP_OK, ("--production",)), SUB_OK, mark_step=True), **ENV_OK}))
    CASES.append(good(shape, "MFX205", "--branch and --production forwarded", {**builder(shape, TOP_OK, SUB_OK), **ENV_OK}))
    # MFX214: --datastore-root forwarded.
    CASES.append(bad(shape, "MFX214", "no --datastore-root",
                     {**builder(shape, _without(TOP_OK, ("--datastore-root",)), SUB_OK, mark_step=True), **ENV_OK}))
    CASES.append(good(shape, "MFX214", "--datastore-root forwarded", {**builder(shape, TOP_OK, SUB_OK), **ENV_OK}))
    # MFX207 / MFX208: environment of the tasks (the builder must be recognised to report).
    for code, title in (("MFX207", "no METAFLOW_OWNER"), ("MFX208", "no config value")):
        CASES.append(bad(shape, code, title, {**builder(shape, TOP_OK, SUB_OK, mark_step=True), **ENV_NONE}))
        CASES.append(good(shape, code, "env complete", {**builder(shape, TOP_OK, SUB_OK), **ENV_OK}))

    # MFX220: a numeric task id (the number of tags), in every shape the id is written in.
    CASES.append(bad(shape, "MFX220", "--task-id is a number",
                     {**builder(shape, TOP_OK, SUB_OK, mark_opt="--task-id", ids=("run_id", "len(tags)")), **ENV_OK}))
    CASES.append(good(shape, "MFX220", "--task-id is a prefixed string",
                      {**builder(shape, TOP_OK, SUB_OK, ids=("run_id", '"t-" + task_id')), **ENV_OK}))
# order: pieces appended in separate statements, the --tag before the sub-command.
CASES += [
    bad("order", "MFX204", "--tag appended before step", {"orch/worker.py": f'''
def launch({ARGS}):
    cmd = [python, flow, "--quiet"]
    for t in tags:
        cmd.append("--tag")  {MARK}
        cmd.append(t)
    cmd.append("step")
    cmd += [name, "--run-id", run_id, "--task-id", task_id]
    return cmd
'''}),
    good("order", "MFX204", "--tag appended after step", {"orch/worker.py": f'''
def launch({ARGS}):
    cmd = [python, flow, "--quiet"]
    cmd.append("step")
    cmd += [name, "--run-id", run_id, "--task-id", task_id]
    for t in tags:
        cmd.append("--tag")
        cmd.append(t)
    return cmd
'''}),
    bad("order", "MFX204", "--tag inserted at the front", {"orch/worker.py": f'''
def launch({ARGS}):
    cmd = ["step", name, "--run-id", run_id, "--task-id", task_id]
    cmd.insert(0, "--tag=%s" % tags[0])  {MARK}
    cmd.insert(0, flow)
    return [python] + cmd
'''}),
    good("order", "MFX204", "top-level option inserted at the front", {"orch/worker.py": f'''
def launch({ARGS}):
    cmd = ["step", name, "--run-id", run_id, "--task-id", task_id, "--tag", tags[0]]
    cmd.insert(0, "--quiet")
    cmd.insert(0, flow)
    return [python] + cmd
'''}),
    # Two builders in one module: the one without the piece is reported, not the first one.
    bad("order", "MFX203", "second builder of the module lacks it", {"orch/worker.py": f'''
def k8s_cmd({ARGS}):
    return [python, flow, "step", name, "--run-id", run_id, "--task-id", task_id,
            "--retry-count", attempt, "--max-user-code-retries", retries]


def local_cmd({ARGS}):
    cmd = [python, flow, "step", name]  {MARK}
    cmd += ["--run-id", run_id, "--task-id", task_id, "--retry-count", attempt]
    return cmd
'''}),
]
