"""MFX207: task environments never set ``METAFLOW_OWNER``."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.orchestrator_names import call_name, string_value
from mfx.analysis.orchestrator_project import (
    EXAMPLE_BUILDER,
    absent_reports,
    may_mention,
    mentions_any,
    nodes_of,
    source_files,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


#: What makes a task's user branch the deploying user's: the variable @project reads first, and
#: the setting ``metaflow.util.get_username()`` reads first. Mentioned anywhere: they count.
OWNER_VARIABLES = ("METAFLOW_OWNER", "METAFLOW_USER")

#: What ``get_username()`` reads next (after ``SUDO_USER``): they count only where a value is
#: *set* under that name (a dict key, ``env[...] = ``, ``setdefault``/``putenv``), since
#: deploy-time code often reads them to find the deploying user.
USER_VARIABLES = ("USERNAME", "USER")


def sets_user_variable(project: ProjectContext) -> bool:
    """Some module sets ``USERNAME``/``USER`` as an environment entry."""
    for f in source_files(project):
        if not may_mention(f, USER_VARIABLES):
            continue
        for n in nodes_of(f):
            keys: list[cst.BaseExpression] = []
            if type(n) is cst.DictElement:
                keys = [n.key]
            elif type(n) is cst.Assign:
                keys = [t.target.slice[0].slice.value for t in n.targets if _one_index(t.target)]
            elif type(n) is cst.Call and call_name(n) in ("setdefault", "putenv") and n.args:
                keys = [n.args[0].value]
            if any(string_value(k) in USER_VARIABLES for k in keys):
                return True
    return False


def _one_index(target: cst.BaseExpression) -> bool:
    return type(target) is cst.Subscript and len(target.slice) == 1 and type(target.slice[0].slice) is cst.Index


class OwnerNotSet(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but never mentions
    ``METAFLOW_OWNER`` in code (an env dict key, an ``export``, …), nor one of the variables
    ``metaflow.util.get_username()`` reads on the worker: ``METAFLOW_USER``, or ``USERNAME`` /
    ``USER`` set as an environment entry. Setting one of those to the deploying user also puts
    the tasks in that user's branch.

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
    (for example from an attribute set in another method) is not checked. ``USERNAME``/``USER``
    lose to a ``SUDO_USER`` set on the worker; they are accepted because workers rarely have one.
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
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/env.py": 'def task_env(env, user):\n    env.setdefault("METAFLOW_USER", user)\n    return env\n',
            },
            note="the user get_username() reads first on the worker",
        ),
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/env.py": 'def task_env(env, user):\n    env["USERNAME"] = user\n    return env\n',
            },
            note="USERNAME set for the task (get_username() reads it when no SUDO_USER is set)",
        ),
    ]
    INVALID = [
        Invalid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/env.py": 'def env():\n    """Sets METAFLOW_OWNER (it does not)."""\n    return {}\n',
            },
            count=1,
        ),
        Invalid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/env.py": 'def task_env(user):\n    return {"METAFLOW_RUN_OWNER_NAME": user}\n',
            },
            count=1,
            note="a variable nothing in Metaflow reads",
        ),
        Invalid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/cli.py": 'import os\n\ndef deploying_user():\n    return os.environ.get("USERNAME") or os.environ["USER"]\n',
                "orch/gen.py": 'TEMPLATE = """\nUSERNAME = {user!r}\nUSER_BRANCH = "user." + USERNAME\n"""\n',
            },
            count=1,
            note="USERNAME/USER read at deploy time or named in generated code, never set for the tasks",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        return absent_reports(project, mentions_any(project, OWNER_VARIABLES) or sets_user_variable(project), self.message)
