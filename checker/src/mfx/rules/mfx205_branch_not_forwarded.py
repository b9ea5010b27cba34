"""MFX205: ``@project``'s ``--branch``/``--production`` are not forwarded to the tasks."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_project import (
    EXAMPLE_BUILDER,
    absent_reports,
    calls_any,
    mentions_any,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class BranchNotForwarded(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but never calls
    ``get_top_level_options()`` on the flow decorators, and does not pass both ``--branch`` and
    ``--production`` literally either.

    ## Why is this bad?
    ``@project`` computes the branch in **each** task process from the top-level ``--branch``
    and ``--production`` options; a task started without them runs in ``user.<worker user>``
    instead of the deployed ``test.<b>``/``prod`` branch, and its artifacts and tags land in the
    wrong namespace (pitfall O13). Flow decorators expose exactly the options they need through
    ``get_top_level_options()``; ``dict_to_cli_options`` turns them into arguments.

    ## Example
    ```python
    top = ["--quiet", "--metadata=%s" % md.TYPE]
    if branch:
        top += ["--branch", branch]   # --production is lost
    ```

    ## Use instead
    ```python
    from metaflow.decorators import flow_decorators
    from metaflow.util import dict_to_cli_options
    opts = {}
    for deco in flow_decorators(flow):
        opts.update(deco.get_top_level_options())
    top = list(dict_to_cli_options(opts)) + ["--quiet", "--metadata=%s" % md.TYPE]
    ```

    ## Known problems
    Presence is checked project-wide: a channel set for one task command counts for all of
    them. Task commands are recognised by the command model (lists, appends, string formatting,
    helpers, option dicts, the click API, shell commands in YAML/JSON documents, shell templates
    and string constants); a command assembled in a shape it does not follow
    (for example from an attribute set in another method) is not checked.
    """

    code = "MFX205"
    name = "branch-not-forwarded"
    message = (
        "tasks do not get @project's --branch/--production: forward "
        "`deco.get_top_level_options()` of every flow decorator with `dict_to_cli_options` "
        "to every init and step command"
    )
    pitfalls = ("O13",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/top.py": (
                    "from metaflow.decorators import flow_decorators\n"
                    "from metaflow.util import dict_to_cli_options\n\n"
                    "def top(flow):\n    opts = {}\n    for deco in flow_decorators(flow):\n"
                    "        opts.update(deco.get_top_level_options())\n"
                    "    return list(dict_to_cli_options(opts))\n"
                ),
            },
            note="the idiom of Metaflow's own orchestrators",
        ),
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/top.py": (
                    "def top(branch, production):\n    out = []\n    if branch:\n"
                    '        out += ["--branch", branch]\n    if production:\n'
                    '        out.append("--production")\n    return out\n'
                ),
            }
        ),
    ]
    INVALID = [
        Invalid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/top.py": 'def top(branch):\n    return []  # "--branch" intentionally not forwarded\n',
            },
            count=1,
        ),
        Invalid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/top.py": 'def top(branch):\n    return ["--branch", branch]\n',
            },
            count=1,
            note="--production never forwarded",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        model = model_of(project)
        present = calls_any(project, ["get_top_level_options"]) or (
            (mentions_any(project, ["--branch"]) or model.passes("--branch"))
            and (mentions_any(project, ["--production"]) or model.passes("--production"))
        )
        return absent_reports(project, present, self.message)
