"""MFX214: tasks are not told which datastore root the deployment uses."""

from __future__ import annotations

from collections.abc import Iterable

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_project import (
    EXAMPLE_BUILDER,
    absent_reports,
    mentions_any,
)
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_CHANNELS = [
    "--datastore-root",
    "METAFLOW_DATASTORE_SYSROOT_LOCAL",
    "METAFLOW_DATASTORE_SYSROOT_S3",
    "METAFLOW_DATASTORE_SYSROOT_AZURE",
    "METAFLOW_DATASTORE_SYSROOT_GS",
]


class DatastoreRootNotForwarded(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but never passes
    ``--datastore-root`` nor sets a ``METAFLOW_DATASTORE_SYSROOT_*`` variable.

    ## Why is this bad?
    Without either, each task resolves the datastore root itself — for the local datastore by
    searching upwards from the task's working directory — so tasks may write to another root
    than the one the client polls, and ``triggered_run.run`` stays None (pitfall O21). Pass the
    deploy-time root, as Argo Workflows does with
    ``"--datastore-root=%s" % flow_datastore.datastore_root``.

    ## Example
    ```python
    top = ["--quiet", "--datastore=%s" % ds.TYPE]
    ```

    ## Use instead
    ```python
    top = ["--quiet", "--datastore=%s" % ds.TYPE, "--datastore-root=%s" % ds.datastore_root]
    ```

    ## Known problems
    Presence is checked project-wide: a channel set for one task command counts for all of
    them. Task commands are recognised by the command model (lists, appends, string formatting,
    helpers, option dicts, the click API, shell commands in YAML/JSON documents, shell templates
    and string constants); a command assembled in a shape it does not follow
    (for example from an attribute set in another method) is not checked.
    """

    code = "MFX214"
    name = "datastore-root-not-forwarded"
    message = (
        "tasks are not given the deploy-time datastore root: pass "
        "`--datastore-root=<flow_datastore.datastore_root>` (or set METAFLOW_DATASTORE_SYSROOT_*)"
    )
    pitfalls = ("O21",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/top.py": 'def top(ds):\n    return ["--datastore-root=%s" % ds.datastore_root]\n',
            }
        ),
    ]
    INVALID = [
        Invalid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/top.py": 'def top(ds):\n    """Add --datastore-root later."""\n    return ["--datastore=%s" % ds.TYPE]\n',
            },
            count=1,
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        present = mentions_any(project, _CHANNELS) or model_of(project).passes("--datastore-root")
        return absent_reports(project, present, self.message)
