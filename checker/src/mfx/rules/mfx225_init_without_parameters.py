"""MFX225: an ``init`` command is built, but no flow parameter ever becomes one of its options."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mfx.analysis.orchestrator_command import PLACEHOLDER
from mfx.analysis.orchestrator_project import extension_of, may_mention, source_files, strings_of
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
        )
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
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        files = list(source_files(project))
        inits = []
        for f in files:
            if not may_mention(f, ("init", "--task-id"), every=True):
                continue  # both words are in the text of a file that builds init
            strings = strings_of(f)
            for func in strings.functions():
                frags = strings.in_function(func)
                tokens = strings.tokens("init", frags)
                if tokens and strings.option_uses("--task-id", frags):
                    inits.append((f.path, tokens[0].node))
        if not inits:
            return []
        fed: set[str] = set()  # extensions with a parameter channel
        for f in files:
            ext = extension_of(f.path)
            if ext in fed or not (_TEXT.search(f.source) or f.words.escaped):
                continue  # a computed option name or the variable is spelled in the file's text
            strings = strings_of(f)
            if any(_DYNAMIC_OPTION.search(frag.text) or "METAFLOW_INIT_" in frag.text for frag in strings.fragments):
                fed.add(ext)
        return [Report(node=node, message=self.message, path=path) for path, node in inits if extension_of(path) not in fed]
