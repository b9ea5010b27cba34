"""MFX208: flow configs never reach the tasks."""

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
    "METAFLOW_FLOW_CONFIG_VALUE",
    "METAFLOW_FLOW_CONFIG",
    "--config-value",
    "--config",
    "--local-config-file",
]


class ConfigNotPropagated(ProjectRule):
    """## What it does
    Flags a project that builds Metaflow ``step`` commands but passes configs through none of
    Metaflow's channels: ``METAFLOW_FLOW_CONFIG_VALUE``/``METAFLOW_FLOW_CONFIG`` in the task
    environment, or ``--config-value``/``--config``/``--local-config-file`` on the command.

    ## Why is this bad?
    Everything evaluated when a task process starts — ``config_expr`` decorator attributes,
    mutators, ``@project(name=config_expr(...))``, ``current.project_name`` — falls back to the
    config defaults in tasks that do not receive the deployed values (pitfall O11). Give the
    values to **every** task, not only to ``init``/start.

    ## Example
    ```python
    env = {"METAFLOW_OWNER": owner}
    ```

    ## Use instead
    ```python
    env = {"METAFLOW_OWNER": owner, "METAFLOW_FLOW_CONFIG_VALUE": json.dumps(config_values)}
    ```

    ## Known problems
    Only the presence of a channel is checked, not that it reaches every task.
    Task commands are recognised by the command model (lists, appends, string formatting,
    helpers, option dicts, the click API, shell commands in YAML/JSON documents, shell templates
    and string constants); a command assembled in a shape it does not follow
    (for example from an attribute set in another method) is not checked.
    """

    code = "MFX208"
    name = "config-not-propagated"
    message = (
        "tasks never receive the flow's config values: set METAFLOW_FLOW_CONFIG_VALUE (or pass "
        "--config-value) for every task, or configs fall back to their defaults"
    )
    pitfalls = ("O11",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/env.py": 'import json\ndef env(cfg):\n    return {"METAFLOW_FLOW_CONFIG_VALUE": json.dumps(cfg)}\n',
            }
        ),
    ]
    INVALID = [
        Invalid(
            {
                "orch/compiler.py": EXAMPLE_BUILDER,
                "orch/env.py": "def env():\n    # METAFLOW_FLOW_CONFIG_VALUE: TODO\n    return {}\n",
            },
            count=1,
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        present = mentions_any(project, _CHANNELS) or model_of(project).passes(
            "--config-value", "--config", "--local-config-file"
        )
        return absent_reports(project, present, self.message)
