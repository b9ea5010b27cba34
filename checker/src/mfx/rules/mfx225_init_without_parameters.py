"""MFX225: an ``init`` command is built, but no flow parameter ever becomes one of its options."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_command import PLACEHOLDER
from mfx.analysis.orchestrator_project import extension_of, source_files
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

#: An option whose name is computed: ``"--" + name``, ``"--%s" % name``, ``"--{}".format(n)``,
#: ``f"--{name}"``, ``"--%(name)s"``.
#: What the text of a file holding such an option (or the variable) contains.
_TEXT = re.compile(r"--[%{\"']|--\s*[\"']|METAFLOW_INIT_")
_DYNAMIC_OPTION = re.compile(r"(?:^|[\s=])--(?:$|[%{]|" + PLACEHOLDER + ")")


class InitWithoutParameters(ProjectRule):
    """## What it does
    Flags the ``init`` command a project builds (the token ``init`` next to ``--task-id``) when
    no code of the project can give it a parameter: no option name is ever computed
    (``"--" + name``, ``"--%s" % name``, ``f"--{name}"`` …) and no ``METAFLOW_INIT_*`` variable
    is set.

    ## Why is this bad?
    ``init`` is where a run's parameter values are fixed (``--<name> <value>``, or
    ``METAFLOW_INIT_<NAME>``). An ``init`` with only its fixed options runs every flow with the
    parameter defaults, whatever ``trigger(...)`` was given (pitfall O9).

    ## Example
    ```python
    init = [python, flow_file, "init", "--run-id", run_id, "--task-id", "_parameters"]
    ```

    ## Use instead
    ```python
    init = [python, flow_file, "init", "--run-id", run_id, "--task-id", "_parameters"]
    for name, value in parameters.items():
        init += ["--%s" % name, str(value)]
    ```
    """

    code = "MFX225"
    name = "init-without-parameters"
    message = (
        "this `init` command never receives the flow parameters (no `--<name>` option is built and no "
        "METAFLOW_INIT_* is set anywhere): the run uses the defaults"
    )
    pitfalls = ("O9",)

    VALID = [
        Valid(
            {
                "orch/init.py": (
                    "def init_cmd(flow_file, run_id, params):\n"
                    '    cmd = ["python", flow_file, "init", "--run-id", run_id, "--task-id", "_parameters"]\n'
                    "    for k, v in params.items():\n"
                    '        cmd += ["--" + k, str(v)]\n'
                    "    return cmd\n"
                )
            }
        ),
        Valid(
            {
                "orch/init.py": """
def init_cmd(api, run_id, params):
    return api(quiet=True).init(run_id=run_id, task_id="_parameters", **params)


def env(params):
    return {"METAFLOW_INIT_" + k.upper(): v for k, v in params.items()}
""",
            },
            note='the click API with the parameters set through METAFLOW_INIT_*',
        ),
    ]
    INVALID = [
        Invalid(
            {
                "orch/init.py": (
                    "def init_cmd(flow_file, run_id, params):\n"
                    '    return ["python", flow_file, "init", "--run-id", run_id, "--task-id", "_parameters"]\n'
                )
            },
            count=1,
        ),
        Invalid(
            {
                "orch/init.py": """
def init_cmd(api, run_id):
    return api(quiet=True).init(run_id=run_id, task_id="_parameters")
""",
            },
            count=1,
            note="Metaflow's click API: `init` with no parameter",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        model = model_of(project)
        files = list(source_files(project))
        inits = [(f.path, frag.node, None) for f, frag in model.writers("init", "--task-id")]
        # assembled across statements, helpers or option dicts: the model's `init` commands
        written = {id(node) for _, node, _ in inits}
        for c in model.commands():
            if c.subcommand == "init" and c.has_option("--task-id") and id(c.anchor.node) not in written:
                written.add(id(c.anchor.node))
                inits.append((c.path, c.anchor.node, c.anchor.word))
        if not inits:
            return []
        fed: set[str] = set()  # extensions with a parameter channel
        for c in model.commands():  # an option name computed in an assembled command: "--" + name
            if any(p.text == "--" and p.glue for p in c.pieces):
                fed.add(extension_of(c.path))
        for f in files:
            ext = extension_of(f.path)
            if ext in fed or not (_TEXT.search(f.source) or f.words.escaped):
                continue  # a computed option name or the variable is spelled in the file's text
            if any(_DYNAMIC_OPTION.search(frag.text) or "METAFLOW_INIT_" in frag.text for frag in model.written_in(f)):
                fed.add(ext)
        return [
            Report(node=node, message=self.message, path=path, word=word)
            for path, node, word in inits
            if extension_of(path) not in fed
        ]
