"""The cases: every carrier of :data:`shell_commands.CARRIERS` against the command rules.

A carrier is rendered from the options its command passes: ``top`` options before the ``step``
sub-command, ``sub`` options after it; values are the carrier's own placeholders (``{{x}}``,
``${X}``, ``{x}``). ``mark_step`` marks the ``step`` word's line (project rules report a missing
piece there), ``mark_opt`` the line of one option (rules about that option's value or place).
"""

from __future__ import annotations

import json

from shell_commands import MARK, bad, good

TOP_OK = [("--branch", "branch"), ("--production", None), ("--datastore-root", "root")]
SUB_OK = [("--retry-count", "attempt"), ("--max-user-code-retries", "retries")]
ENV_OK = {"orch/env.py": 'def env(user, cfg):\n    return {"METAFLOW_OWNER": user, "METAFLOW_FLOW_CONFIG_VALUE": cfg}\n'}
ENV_NONE = {"orch/env.py": 'def env():\n    return {"HOME": "/tmp"}\n'}
#: Where each carrier writes a value: (placeholder format, literal format).
VALUES = {
    "yaml-script": "{{{{inputs.parameters.{}}}}}",
    "yaml-run": "${{{{ inputs.{} }}}}",
    "yaml-args": '"{{{{inputs.parameters.{}}}}}"',
    "yaml-flow-args": '"{{{{inputs.parameters.{}}}}}"',
    "yaml-commands": "{{{{ {} }}}}",
    "json-args": "${{{}}}",
    "json-script": "${{{}}}",
    "py-constant": "{{{}}}",
    "py-fstring": "{{{}}}",
    "template": "{{{{ {} }}}}",
}
ARGS = "python, flow, name, run_id, task_id, attempt, retries, tag, root, branch"


def _value(carrier: str, v: str) -> str:
    if v.isdigit():
        return f'"{v}"' if carrier in ("yaml-args", "yaml-flow-args") else v
    return VALUES[carrier].format(v)


def _words(carrier, top, sub, init=False):
    """[(words on one line, mark key)] of ``python flow.py <top> step start --run-id --task-id <sub>``."""
    lines = [(["python" if "py-" not in carrier else "{python}", "flow.py" if "py-" not in carrier else "{flow}", "--quiet"], None)]
    if carrier == "template":
        lines[0] = (["{{ python }}", "{{ flow_file }}", "--quiet"], None)
    for o, v in top:
        lines.append(([o] + ([_value(carrier, v)] if v is not None else []), o))
    sub_name = "init" if init else "step"
    lines.append(([sub_name] + ([] if init else ["start"]), "step"))
    for o, v in [("--run-id", "run_id"), ("--task-id", "task_id")] + list(sub):
        lines.append(([o] + ([_value(carrier, v)] if v is not None else []), o))
    return lines


def _shell(carrier, top, sub, marks, indent="", init_first=False):
    """A continued shell command, one option per line, marks after the continuation."""
    out = []
    if init_first:
        init = _words(carrier, [t for t in top if t[0] != "--tag"], [], init=True)
        out.append(indent + " ".join(w for ws, _ in init for w in ws) + " && \\")
    lines = _words(carrier, top, sub)
    for i, (ws, key) in enumerate(lines):
        cont = " \\" if i < len(lines) - 1 else ""
        mark = f"  {MARK}" if key in marks else ""
        out.append(indent + ("  " if i else "") + " ".join(ws) + cont + mark)
    return out


def render(carrier, top=(), sub=(), mark_step=False, mark_opt=None, env=True, init=False) -> dict:
    marks = ({"step"} if mark_step else set()) | ({mark_opt} if mark_opt else set())
    env_lines = ["METAFLOW_OWNER", "METAFLOW_FLOW_CONFIG_VALUE"] if env else ["HOME"]
    files = {}
    if carrier == "yaml-script":
        body = _shell(carrier, top, sub, marks, indent="          ", init_first=init)
        files["orch/templates/workflow.yaml"] = "\n".join([
            "apiVersion: argoproj.io/v1alpha1",
            "kind: WorkflowTemplate",
            "spec:",
            "  templates:",
            "    - name: task",
            "      script:",
            "        image: python:3.11",
            "        env:",
            *[f"          - name: {e}\n            value: x" for e in env_lines],
            "        command: [bash]",
            "        source: |",
            "          set -e",
            *body,
            "",
        ])
    elif carrier == "yaml-run":
        body = _shell(carrier, top, sub, marks, indent="            ")
        init_line = ["            bash -c \"python flow.py init --run-id ${{ inputs.run_id }} --task-id params\""] if init else []
        files["orch/templates/gha.yml"] = "\n".join([
            "on: workflow_dispatch",
            "jobs:",
            "  task:",
            "    runs-on: ubuntu-latest",
            "    env:",
            *[f"      {e}: ${{{{ inputs.value }}}}" for e in env_lines],
            "    steps:",
            "      - run: |",
            *init_line,
            "            cat > task.sh <<'EOF'",
            *body,
            "            EOF",
            "            bash task.sh",
            "",
        ])
    elif carrier in ("yaml-args", "yaml-flow-args"):
        lines = _words(carrier, top, sub)
        env_yaml = [f"            - name: {e}\n              value: x" for e in env_lines]
        init_c = []
        if init:
            init_c = ["        - name: init", "          command: [python, flow.py, init, --run-id, \"{{run}}\", --task-id, params]"]
        if carrier == "yaml-args":
            prog = [f"            - {w}" for w in lines[0][0]]
            top_lines = []
            for ws, key in lines[1:]:
                if key == "step":
                    break
                top_lines += [f"            - {w}" + (f"  {MARK}" if key in marks and j == 0 else "") for j, w in enumerate(ws)]
            rest, started = [], False
            for ws, key in lines:
                started = started or key == "step"
                if started:
                    rest += [f"            - {w}" + (f"  {MARK}" if key in marks and j == 0 else "") for j, w in enumerate(ws)]
            spec = ["          command:", *prog, *top_lines, "          args:", *rest]
        else:  # the program is the image's entrypoint: one flow-style list
            words = [w for ws, _ in lines[1:] for w in ws]
            spec = ["          args: [" + ", ".join(words) + "]" + (f"  {MARK}" if marks else "")]
        files["orch/templates/job.yaml"] = "\n".join([
            "apiVersion: batch/v1",
            "kind: Job",
            "spec:",
            "  template:",
            "    spec:",
            "      containers:",
            "        - name: task",
            "          image: \"{{image}}\"",
            "          env:",
            *env_yaml,
            *spec,
            *init_c,
            "",
        ])
    elif carrier == "yaml-commands":
        lines = _words(carrier, top, sub)
        items = []
        if init:
            items.append("      - python flow.py init --run-id {{ run }} --task-id params")
        items.append("      - " + '"' + " ".join(lines[0][0]))
        for ws, key in lines[1:]:
            items.append("        " + " ".join(ws) + (f"  {MARK}" if key in marks else ""))
        items[-1] = items[-1].replace(f"  {MARK}", "") + '"' + (f"  {MARK}" if lines[-1][1] in marks else "")
        files["orch/flows/kestra.yml"] = "\n".join([
            "id: metaflow",
            "namespace: dev",
            "tasks:",
            "  - id: task",
            "    type: io.kestra.plugin.scripts.shell.Commands",
            "    env:",
            *[f"      {e}: \"{{{{ inputs.value }}}}\"" for e in env_lines],
            "    commands:",
            *items,
            "",
        ])
    elif carrier in ("json-args", "json-script"):
        lines = _words(carrier, top, sub)
        if carrier == "json-args":
            args = []
            for ws, key in lines:
                args.append("      " + ", ".join(json.dumps(w) for w in ws) + "," + (f"  {MARK}" if key in marks else ""))
            args[-1] = args[-1].replace(",", "", 0)
            last = args[-1]
            body, _, _ = last.partition(MARK)
            args[-1] = body.rstrip().rstrip(",") + (f"  {MARK}" if MARK in last else "")
            task = ['    {"name": "start",', '     "args": [', *args, "     ]"]
            if init:
                task = ['    {"name": "init", "args": ["python", "flow.py", "init", "--run-id", "${RUN_ID}", "--task-id", "p"]},', *task]
        else:
            script = " ".join(w for ws, _ in lines for w in ws)
            if init:
                script = "python flow.py init --run-id ${RUN_ID} --task-id params && " + script
            task = ['    {"name": "start",', '     "script": ' + json.dumps("set -e; " + script) + (f"  {MARK}" if marks else "")]
        files["orch/spec/task.json"] = "\n".join([
            "{",
            '  "env": {' + ", ".join(f'"{e}": "x"' for e in env_lines) + "},",
            '  "tasks": [',
            *task,
            "    }",
            "  ]",
            "}",
            "",
        ])
    elif carrier == "py-constant":
        body = _shell(carrier, top, sub, marks, init_first=init)
        files["orch/scripts.py"] = "\n".join([
            '"""The task script (python flow.py step ... --run-id ... in the docs is no command)."""',
            "",
            'STEP_SCRIPT = """#!/bin/bash',
            *[ln.replace("\\", "\\\\") for ln in body],
            '"""',
            "",
            "",
            f"def launch({ARGS}):",
            "    return STEP_SCRIPT.format(python=python, flow=flow, run_id=run_id, task_id=task_id,",
            "                              attempt=attempt, retries=retries, root=root, branch=branch)",
            "",
        ])
        files.update(ENV_OK if env else ENV_NONE)
    elif carrier == "py-fstring":
        # A finding on a word of a string inside a function points at the word's own line (the
        # marks stay on the word lines, as for module-level constants).
        body = _shell(carrier, top, sub, marks)
        init_line = []
        if init:
            init_line = ["{python} {flow} init --run-id {run_id} --task-id params &&"]
        files["orch/worker.py"] = "\n".join([
            f"def launch({ARGS}):",
            '    script = f"""set -e',
            "cd /work && \\\\",
            *init_line,
            *[ln.replace("\\", "\\\\") for ln in body],
            '"""',
            '    return ["bash", "-c", script]',
            "",
        ])
        files.update(ENV_OK if env else ENV_NONE)
    elif carrier == "template":
        lines = _words(carrier, top, sub)
        out = ["#!/bin/bash", "set -euo pipefail"]
        if init:
            out.append("{{ python }} {{ flow_file }} init --run-id {{ run_id }} --task-id params")
        for i, (ws, key) in enumerate(lines):
            cont = " \\" if i < len(lines) - 1 else ""
            mark = f"  {MARK}" if key in marks else ""
            if key == "--branch":
                out.append("{% if branch %}")
            out.append(("  " if i else "") + " ".join(ws) + cont + mark)
            if key == "--branch":
                out.append("{% endif %}")
        files["orch/templates/task.sh.j2"] = "\n".join(out) + "\n"
        files.update(ENV_OK if env else ENV_NONE)
    else:  # pragma: no cover
        raise ValueError(carrier)
    return files


def _without(opts, names):
    return [p for p in opts if p[0] not in names]


CARRIER_NAMES = (
    "yaml-script", "yaml-run", "yaml-args", "yaml-flow-args", "yaml-commands",
    "json-args", "json-script", "py-constant", "py-fstring", "template",
)
CASES = []
for c in CARRIER_NAMES:
    single_line = c in ("json-script", "yaml-flow-args")
    full = dict(top=TOP_OK, sub=SUB_OK)
    # MFX203: --max-user-code-retries is a piece of the step command.
    CASES.append(bad(c, "MFX203", "no --max-user-code-retries",
                     render(c, TOP_OK, _without(SUB_OK, ("--max-user-code-retries",)), mark_step=True, init=True)))
    CASES.append(good(c, "MFX203", "--max-user-code-retries given", render(c, **full, init=True)))
    # MFX201: a constant --retry-count.
    sub0 = [("--retry-count", "0"), ("--max-user-code-retries", "retries")]
    CASES.append(bad(c, "MFX201", "--retry-count 0", render(c, TOP_OK, sub0, mark_opt="--retry-count", init=True)))
    CASES.append(good(c, "MFX201", "--retry-count from the attempt", render(c, **full, init=True)))
    # MFX204: --tag before the step sub-command.
    CASES.append(bad(c, "MFX204", "--tag before step",
                     render(c, TOP_OK + [("--tag", "tag")], SUB_OK, mark_opt="--tag", init=True)))
    CASES.append(good(c, "MFX204", "--tag after step", render(c, TOP_OK, SUB_OK + [("--tag", "tag")], init=True)))
    # MFX205 / MFX214: top-level options forwarded.
    CASES.append(bad(c, "MFX205", "--production not forwarded",
                     render(c, _without(TOP_OK, ("--production",)), SUB_OK, mark_step=True, init=True)))
    CASES.append(good(c, "MFX205", "--branch and --production forwarded", render(c, **full, init=True)))
    CASES.append(bad(c, "MFX214", "no --datastore-root",
                     render(c, _without(TOP_OK, ("--datastore-root",)), SUB_OK, mark_step=True, init=True)))
    CASES.append(good(c, "MFX214", "--datastore-root forwarded", render(c, **full, init=True)))
    # MFX207 / MFX208: the task environment (set in the carrier itself, or in Python).
    for code, title in (("MFX207", "no METAFLOW_OWNER"), ("MFX208", "no config value")):
        CASES.append(bad(c, code, title, render(c, **full, mark_step=True, env=False, init=True)))
        CASES.append(good(c, code, "env complete", render(c, **full, init=True)))
    # MFX213: an init command somewhere in the carrier.
    CASES.append(bad(c, "MFX213", "no init command", render(c, **full, mark_step=True)))
    CASES.append(good(c, "MFX213", "init chained or listed", render(c, **full, init=True)))

# Near misses: shell text that is no Metaflow task command, and files that are not carriers.
_FULL = "python flow.py --quiet step start --run-id 1 --task-id 2 --retry-count 0"
CASES += [
    good("guard", None, "python setup.py step", {"orch/templates/build.yaml": """
        steps:
          - script: |
              python setup.py step --run-id 1 --task-id 2 --retry-count 0
              python manage.py --quiet step start --run-id 1 --task-id 2
        """}),
    good("guard", None, "kubectl and echo lines", {"deploy/run.sh": """
        #!/bin/sh
        kubectl rollout step deployment/web --run-id 3 --task-id 4
        echo "python flow.py step start --run-id 1 --task-id 2 --retry-count 0"
        # python flow.py step start --run-id 1 --task-id 2 --retry-count 0
        printf '%s\\n' step --run-id
        """}),
    good("guard", None, "documentation and CI are not carriers", {
        "docs/usage.md": f"Run `{_FULL}` by hand.\n",
        "docs/examples/workflow.yaml": f"script: |\n  {_FULL}\n",
        ".github/workflows/ci.yml": f"on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: {_FULL}\n",
        "README.md": f"    {_FULL}\n",
    }),
    good("guard", None, "a config with step and run-id keys", {"orch/config.yaml": """
        step: start
        run-id: 12
        task-id: 3
        retry-count: 0
        commands: [step, start]
        """}),
    good("guard", None, "a docstring and a message are not commands", {"orch/help.py": f'''
        """Usage: {_FULL}"""


        def usage():
            print("{_FULL}")
        '''}),
    good("guard", None, "a JSON array of words, not argv", {"orch/words.json": """
        {"words": ["step", "run", "--run-id is documented", "--task-id too"]}
        """}),
]
