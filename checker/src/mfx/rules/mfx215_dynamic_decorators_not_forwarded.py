"""MFX215: decorators attached with ``--with`` are not forwarded to the tasks."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.orchestrator_project import EXAMPLE_BUILDER, absent_reports, calls_any
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class DynamicDecoratorsNotForwarded(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but never calls
    ``make_decorator_spec()``.

    ## Why is this bad?
    Decorators added at deploy time — ``Deployer(flow, decospecs=[...])``, ``--with``,
    ``METAFLOW_DEFAULT_DECOSPECS``, the environment's decospecs — exist in a task only if its
    command line repeats them with ``--with``. Without that, ``--with retry`` or a compute
    decorator given at deploy time silently has no effect (pitfall O28).

    ## Example
    ```python
    top = ["--quiet", "--metadata=%s" % md.TYPE]
    ```

    ## Use instead
    ```python
    top = ["--with=%s" % d.make_decorator_spec() for d in node.decorators
           if not d.statically_defined and d.inserted_by is None]
    ```

    ## Known problems
    Presence is checked project-wide: a channel set for one task command counts for all of
    them. Task commands are recognised by the command model (lists, appends, string formatting,
    helpers, option dicts, the click API, shell commands in YAML/JSON documents, shell templates
    and string constants); a command assembled in a shape it does not follow
    (for example from an attribute set in another method) is not checked.
    """

    code = "MFX215"
    name = "dynamic-decorators-not-forwarded"
    message = (
        "decorators attached at deploy time (--with, decospecs) are not forwarded: add "
        "`--with <deco.make_decorator_spec()>` for each step decorator that is not statically "
        "defined and has `inserted_by is None`"
    )
    pitfalls = ("O28",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/top.py": (
                    "def top(node):\n    return [\"--with=%s\" % d.make_decorator_spec() for d in node.decorators\n"
                    "            if not d.statically_defined and d.inserted_by is None]\n"
                ),
            }
        ),
    ]
    INVALID = [
        Invalid({"orch/compiler.py": EXAMPLE_BUILDER + "# d.make_decorator_spec()\n"}, count=1),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        return absent_reports(project, calls_any(project, ["make_decorator_spec"]), self.message)
