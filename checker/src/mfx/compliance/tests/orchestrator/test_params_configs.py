"""Parameters of every type, Configs in every task, @environment vars everywhere."""

from __future__ import annotations

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, command_line, task_data
from mfx.compliance.runspec import Spec

PARAMS = {
    "text": "hello world, with: punctuation/!",
    "count": 42,
    "ratio": 2.5,
    "flag": False,
    "payload": {"a": [1, 2], "b": None},
    "retry_count": 42,
}


PARAMETERS = Spec("params", "parameters", "params_flow", params=PARAMS)
@pytest.mark.capability("parameters")
@pytest.mark.mfx_run(PARAMETERS)
def test_parameters_of_every_type_reach_tasks(h: Harness) -> None:
    handle = h.finish(PARAMETERS)
    run = handle.run
    seen = task_data(run, "start").seen
    wrong = [name for name, value in PARAMS.items() if not (seen[name] == value and type(seen[name]) is type(value))]
    if wrong:
        # The trigger accepted the parameters (else it would have failed). When some arrived, the
        # others were dropped or coerced (O9). When none did, the trigger command line tells: without
        # a --<param> option on it the CLI never declared them (O7); with them, the CLI got every
        # value and lost them on the way to init (O9).
        name, value = wrong[0], PARAMS[wrong[0]]
        pid = "O9"
        if len(wrong) == len(PARAMS):
            argv = command_line(getattr(handle.deployed, "deployer", None), "trigger").split()
            given = [n for n in wrong if f"--{n}" in argv or f"--{n.replace('_', '-')}" in argv]
            pid = "O7,O9" if argv == ["?"] else ("O9" if given else "O7")
        raise AssertionError(pitfall(
            pid,
            f"parameter {name!r}: task saw {seen[name]!r} ({type(seen[name]).__name__}), triggered with {value!r}"
            f" ({len(wrong)} of {len(PARAMS)} parameters wrong: {wrong})",
            fix="pass every parameter to init as --<name> <value> (JSON values json.dumps'd, False kept)",
        ))
    assert seen["untouched"] == "kept-default", pitfall("O9", f"a parameter not given to trigger() became {seen['untouched']!r}")
    assert task_data(run, "end").seen_in_end == {"count": 42, "flag": False}


CONFIG = Spec(
    "config",
    "configs",
    "config_flow",
    top_level={"config_value": [("cfg", {"project": "mfx_cfg_override", "size": 7}), ("env_cfg", {"MFX_FROM_CONFIG": "config-override"})]},
)
@pytest.mark.capability("configs")
@pytest.mark.mfx_run(CONFIG)
def test_config_reaches_every_task(h: Harness) -> None:
    run = h.finish(CONFIG).run
    assert "project:mfx_cfg_override" in run.tags, pitfall("O10,O11", f"run tags {sorted(run.tags)} lack the overridden project", fix="pass the config to init via METAFLOW_FLOW_CONFIG_VALUE")
    end = run["end"].task
    assert end.data.end_project == "mfx_cfg_override", pitfall(
        "O11", f"the end task computed project {end.data.end_project!r}", fix="set METAFLOW_FLOW_CONFIG_VALUE (real JSON values, not kv. refs) for EVERY task"
    )
    assert "project:mfx_cfg_override" in end.system_tags, pitfall("O11", f"end task system tags {sorted(end.system_tags)}")
    assert end.data.size == 7, pitfall("O11", f"config artifact size={end.data.size}")
    assert end.data.from_config_env == "config-override", pitfall(
        "O11,O12", f"config_expr-driven @environment var is {end.data.from_config_env!r}", fix="read @environment vars after config processing, per step"
    )


ENV = Spec("env", "environment-vars", "env_flow", top_level={"config_value": [("body_env", {"MFX_BODY_CFG": "body-override"})]})
@pytest.mark.capability("environment-vars")
@pytest.mark.mfx_run(ENV)
def test_environment_vars_in_steps_and_foreach_bodies(h: Harness) -> None:
    run = h.finish(ENV).run
    assert task_data(run, "start").static == "static-value", pitfall("O12", "@environment var missing in the start task", fix="merge @environment vars into each task's env")
    assert task_data(run, "join").body_values == ["body-override", "body-override"], pitfall(
        "O11,O12", f"foreach body tasks saw {task_data(run, 'join').body_values}", fix="apply each step's @environment (config_expr evaluated) to every foreach split"
    )
    assert task_data(run, "end").end_value == "end-value", pitfall("O12", "@environment var missing in the end task")
