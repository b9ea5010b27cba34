"""MFX211: flow parameters passed through ``METAFLOW_PARAMETER_*`` variables nobody reads.

Not a command rule: it is about an environment variable *name* written in code anywhere (an
``env`` dict key, an ``export`` line, a template), not about how a task command is assembled, so
it reads the code strings of each file (:func:`mfx.analysis.orchestrator_command.code_strings`)
rather than the command model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from mfx.analysis.orchestrator_command import code_strings
from mfx.analysis.orchestrator_names import dotted, string_value
from mfx.analysis.orchestrator_project import nodes_of, source_files
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_NAME = re.compile(r"METAFLOW_PARAMETER(S\b|_)")


class NonexistentParameterEnvVar(ProjectRule):
    """## What it does
    Flags code strings that name ``METAFLOW_PARAMETERS`` or ``METAFLOW_PARAMETER_<NAME>``,
    unless the project itself reads that variable (``os.environ[...]``, ``os.environ.get``,
    ``os.getenv``) — a provider-internal variable consumed by its own script, as Step Functions
    does.

    ## Why is this bad?
    Metaflow has no such variables: parameter values reach a run through ``init --<param>
    <value>`` or click's ``METAFLOW_INIT_<NAME>`` variables (``NAME`` is the parameter name
    upper-cased with ``-`` replaced by ``_``). Values sent anywhere else are silently dropped
    and the run uses the defaults (pitfall O9).

    ## Example
    ```python
    env["METAFLOW_PARAMETER_" + name.upper()] = value
    ```

    ## Use instead
    ```python
    env["METAFLOW_INIT_" + name.upper().replace("-", "_")] = value
    ```
    """

    code = "MFX211"
    name = "nonexistent-parameter-env-var"
    message = (
        "Metaflow reads no METAFLOW_PARAMETER(S) variable: pass parameters to `init` as "
        "`--<name> <value>` or as METAFLOW_INIT_<NAME> (upper case, '-' → '_')"
    )
    pitfalls = ("O9",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": 'def env(v):\n    """Not METAFLOW_PARAMETERS."""\n    return {"METAFLOW_PARAMETERS": v}\n',
                "orch/bootstrap.py": 'import os, json\n\ndef load():\n    return json.loads(os.environ.get("METAFLOW_PARAMETERS", "{}"))\n',
            },
            note="a provider-internal variable read by its own script",
        ),
        Valid({"orch/doc.py": '"""Do not use METAFLOW_PARAMETER_<NAME>."""\n# METAFLOW_PARAMETERS\n'}),
        Valid(
            {"orch/gen.py": 'TEMPLATE = """\ndef run():\n    \'\'\'Values go to init (not METAFLOW_PARAMETERS).\'\'\'\n"""\n'},
            note="prose inside a template of generated code",
        ),
    ]
    INVALID = [
        Invalid(
            {
                "orch/compiler.py": (
                    "def env(params):\n"
                    '    return {"METAFLOW_PARAMETER_%s" % k.upper(): v for k, v in params.items()}\n'
                ),
                "orch/gen.py": "LINE = 'init_env[\"METAFLOW_PARAMETERS\"] = json.dumps(parameters)'\n",
            },
            count=2,
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        files = [f for f in source_files(project) if "METAFLOW_PARAMETER" in f.source]
        read = set()
        for f in files:
            for n in nodes_of(f):
                name = self._read_name(n)
                if name:
                    read.add(name)
        for f in files:
            for frag in code_strings(f).fragments:
                for match in _NAME.finditer(frag.raw):
                    if not self._code_like(frag.raw, match.start()):
                        continue
                    word = re.match(r"\w+", frag.raw[match.start():])
                    full = word.group(0) if word else match.group(0)
                    if full in read or (full.endswith("_") and any(r.startswith(full) for r in read)):
                        continue
                    if frag.node is not None:
                        yield Report(frag.node, self.message, path=f.path)
                    break

    @staticmethod
    def _code_like(raw: str, start: int) -> bool:
        """The name is used as code (a key, a variable, an export) rather than mentioned in prose,
        which matters inside templates of generated code (``"(not METAFLOW_PARAMETERS)"``)."""
        before = raw[:start].rstrip(" ")
        if not before or before[-1] in "\"'[{$\n" or before.endswith("export"):
            return True
        after = re.match(r"\w*\s*(.)", raw[start:])
        return bool(after) and after.group(1) in "=\"'"

    @staticmethod
    def _read_name(n: cst.CSTNode) -> str | None:
        if type(n) is cst.Call:
            func = dotted(n.func) or ""  # type: ignore[attr-defined]
            if func in ("os.environ.get", "os.getenv", "environ.get", "getenv") and n.args:  # type: ignore[attr-defined]
                return string_value(n.args[0].value)  # type: ignore[attr-defined]
        if type(n) is cst.Subscript and dotted(n.value) in ("os.environ", "environ"):  # type: ignore[attr-defined]
            sub = n.slice[0].slice  # type: ignore[attr-defined]
            if isinstance(sub, cst.Index):
                return string_value(sub.value)
        return None
