"""MFX216: tasks are launched with a fixed interpreter instead of the environment's."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.orchestrator_project import EXAMPLE_BUILDER, absent_reports, calls_any
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class CondaEnvironmentNotMaterialised(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but never calls the environment's
    ``executable(...)`` nor ``bootstrap_commands(...)``.

    ## Why is this bad?
    ``@conda``/``@pypi`` steps need their own interpreter: the environment returns it from
    ``environment.executable(step_name)`` once ``environment.bootstrap_commands(step_name,
    datastore_type)`` has created it. Running ``step`` with the host Python and
    ``--environment conda`` imports the host's packages or fails with ``ModuleNotFoundError``
    (pitfall O27). If the orchestrator cannot do this, reject ``@conda``/``@pypi`` at deploy
    time with a "not supported" message.

    ## Example
    ```python
    cmd = [sys.executable, flow_file, "step", node.name, ...]
    ```

    ## Use instead
    ```python
    pre = environment.bootstrap_commands(node.name, flow_datastore.TYPE)
    cmd = [environment.executable(node.name), flow_file, "step", node.name, ...]
    ```

    ## Known problems
    Presence is checked project-wide: a channel set for one task command counts for all of
    them. Task commands are recognised by the command model (lists, appends, string formatting,
    helpers, option dicts, the click API, shell commands in YAML/JSON documents, shell templates
    and string constants); a command assembled in a shape it does not follow
    (for example from an attribute set in another method) is not checked.
    """

    code = "MFX216"
    name = "conda-environment-not-materialised"
    message = (
        "tasks never use `environment.executable(step)` / `environment.bootstrap_commands(...)`: "
        "@conda and @pypi steps then run with the host interpreter"
    )
    pitfalls = ("O27",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/entry.py": (
                    "def entry(environment, node, ds):\n"
                    "    return environment.bootstrap_commands(node.name, ds.TYPE), environment.executable(node.name)\n"
                ),
            }
        ),
    ]
    INVALID = [
        Invalid({"orch/compiler.py": "import sys\n" + EXAMPLE_BUILDER + "PY = sys.executable\n"}, count=1),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        return absent_reports(
            project, calls_any(project, ["executable", "bootstrap_commands"]), self.message
        )
