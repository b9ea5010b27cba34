"""MFX207: task environments never set ``METAFLOW_OWNER``."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.orchestrator_project import (
    EXAMPLE_BUILDER,
    absent_reports,
    mentions_any,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class OwnerNotSet(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but never mentions
    ``METAFLOW_OWNER`` in code (an env dict key, an ``export``, …).

    ## Why is this bad?
    For ``@project`` flows deployed without ``--branch``, every task computes its branch as
    ``user.<METAFLOW_OWNER or the worker's username>``; without the variable the tasks of a
    user deployment land in ``user.root`` or the service account's branch instead of the
    deploying user's (pitfall O14).

    ## Example
    ```python
    env = {"METAFLOW_FLOW_CONFIG_VALUE": config_json}
    ```

    ## Use instead
    ```python
    env = {"METAFLOW_FLOW_CONFIG_VALUE": config_json, "METAFLOW_OWNER": get_username()}
    ```

    ## Known problems
    Presence is checked project-wide: a channel set for one task command counts for all of
    them. Task commands are recognised by the command model (lists, appends, string formatting,
    helpers, option dicts, the click API, shell commands in YAML/JSON documents, shell templates
    and string constants); a command assembled in a shape it does not follow
    (for example from an attribute set in another method) is not checked.
    """

    code = "MFX207"
    name = "owner-not-set"
    message = (
        "tasks are launched without METAFLOW_OWNER: @project user branches then use the worker's "
        "username; set METAFLOW_OWNER to the deploying user (metaflow.util.get_username())"
    )
    pitfalls = ("O14",)

    VALID = [
        Valid({"orch/compiler.py": EXAMPLE_BUILDER, "orch/env.py": 'def env(user):\n    return {"METAFLOW_OWNER": user}\n'}),
        Valid({"orch/other.py": "# METAFLOW_OWNER\nx = 1\n"}, note="no task command built"),
    ]
    INVALID = [
        Invalid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/env.py": 'def env():\n    """Sets METAFLOW_OWNER (it does not)."""\n    return {}\n',
            },
            count=1,
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        return absent_reports(project, mentions_any(project, ["METAFLOW_OWNER"]), self.message)
