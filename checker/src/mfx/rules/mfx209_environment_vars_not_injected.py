"""MFX209: ``@environment`` variables are never read into the task environment."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.orchestrator_project import (
    EXAMPLE_BUILDER,
    absent_reports,
    subscripts_with_key,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class EnvironmentVarsNotInjected(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but never reads a decorator's
    ``attributes["vars"]`` (the variables of ``@environment``).

    ## Why is this bad?
    ``@environment`` only implements a hook of Metaflow's local runtime; a bare ``step``
    command does not apply it. Unless the orchestrator copies the variables into each task's
    environment, ``os.environ`` lacks them in every deployed run (pitfall O12).

    ## Example
    ```python
    env = dict(base_env)
    ```

    ## Use instead
    ```python
    env = dict(base_env)
    for deco in node.decorators:
        if deco.name == "environment":
            env.update(deco.attributes["vars"])
    ```

    ## Known problems
    Presence is checked project-wide: a channel set for one task command counts for all of
    them. Task commands are recognised by the command model (lists, appends, string formatting,
    helpers, option dicts, the click API, shell commands in YAML/JSON documents, shell templates
    and string constants); a command assembled in a shape it does not follow
    (for example from an attribute set in another method) is not checked.
    """

    code = "MFX209"
    name = "environment-vars-not-injected"
    message = (
        "@environment variables never reach the tasks: a bare `step` command does not apply them; "
        'merge `deco.attributes["vars"]` of the step\'s "environment" decorator into the task env'
    )
    pitfalls = ("O12",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/env.py": (
                    "def env(node):\n    out = {}\n    for d in node.decorators:\n"
                    '        if d.name == "environment":\n            out.update(d.attributes.get("vars", {}))\n'
                    "    return out\n"
                ),
            }
        ),
    ]
    INVALID = [
        Invalid(
            {"orch/compiler.py": EXAMPLE_BUILDER, "orch/env.py": 'def env(node):\n    return {"vars": 1}\n'},
            count=1,
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        return absent_reports(project, subscripts_with_key(project, "vars"), self.message)
