"""Every run the orchestrator tests need, declared up front.

Declaring them lets the session create and trigger all selected runs early (``conftest.py``'s
prefetch) so they execute concurrently on the engine while earlier tests assert; each test then
only waits for its own run. A test that runs alone launches its spec itself.
"""

from __future__ import annotations

import uuid
from typing import Dict, Tuple

from mfx.compliance.harness import Spec

_SUFFIX = uuid.uuid4().hex[:8]
BRANCH = f"b{_SUFFIX}"
RT_BRANCH = f"rt{_SUFFIX}"
OWNER = f"mfxowner{_SUFFIX}"

PARAMS = {
    "text": "hello world, with: punctuation/!",
    "count": 42,
    "ratio": 2.5,
    "flag": False,
    "payload": {"a": [1, 2], "b": None},
    "retry_count": 42,
}
RT_VALUES = {"label": "recovered", "number": 7, "scale": 0.25, "enabled": True, "extra": {"x": [1]}}
TIMEOUT_LIMITS = {"timeout_seconds": 120.0, "timeout_minutes": 200.0}  # seconds the step may last; it would sleep 240 s

_ALL = [
    # Long runs first: they overlap everything else.
    Spec("timeout_minutes", "timeout", "timeout_minutes_flow", expect_success=False, wait_timeout=TIMEOUT_LIMITS["timeout_minutes"] + 30, order=0),
    Spec("timeout_seconds", "timeout", "timeout_seconds_flow", expect_success=False, wait_timeout=TIMEOUT_LIMITS["timeout_seconds"] + 30, order=1),
    Spec("nested3", "nested-foreach", "nested_foreach_3level_flow", order=2),
    Spec("linear", "linear", "linear_flow", extra_tags=("mfx-compliance",), order=10),
    Spec("fail", "status-failed", "fail_flow", expect_success=False),
    Spec("resume_foreach", "resume", "resume_foreach_flow", params={"mode": "fail"}, expect_success=False),
    Spec("resume_ok", "resume", "resume_foreach_flow", params={"mode": "ok"}),
    Spec("branch", "branch", "branch_flow"),
    Spec("split_in_branch", "split-in-branch", "split_in_branch_flow"),
    Spec("foreach", "foreach", "foreach_flow"),
    Spec("multi_body", "multi-body-foreach", "multi_body_foreach_flow"),
    Spec("nested2", "nested-foreach", "nested_foreach_flow"),
    Spec("switch", "switch", "switch_flow", params={"route": "low"}),
    Spec("custom_names", "custom-step-names", "custom_names_flow"),
    Spec("single_step", "single-step", "single_step_flow"),
    Spec("params", "parameters", "params_flow", params=PARAMS),
    Spec(
        "config",
        "configs",
        "config_flow",
        top_level={"config_value": [("cfg", {"project": "mfx_cfg_override", "size": 7}), ("env_cfg", {"MFX_FROM_CONFIG": "config-override"})]},
    ),
    Spec("env", "environment-vars", "env_flow", top_level={"config_value": [("body_env", {"MFX_BODY_CFG": "body-override"})]}),
    Spec("project_branch", "project-branch", "project_flow", top_level={"branch": BRANCH}),
    Spec("project_production", "production-branch", "project_flow", top_level={"production": True}),
    Spec("project_user", "user-branch", "project_flow", env={"METAFLOW_USER": OWNER}),
    Spec("retry", "retry", "retry_flow"),
    Spec("catch", "catch", "catch_flow"),
    Spec("resources", "resources", "resources_flow"),
    Spec("timeout_ok", "timeout-normal-run", "timeout_ok_flow"),
    Spec("cards", "cards", "card_flow"),
    Spec("dynamic", "dynamic-decorators", "always_fails_flow", top_level={"decospecs": ["catch:var=dynamic_error"]}),
    Spec(
        "roundtrip",
        "from-deployment",
        "roundtrip_flow",
        params=RT_VALUES,
        recover=True,
        top_level={"branch": RT_BRANCH, "config_value": [("cfg", {"project": "mfx_rt_override", "batch_size": 32})]},
    ),
]

SPECS: Dict[str, Spec] = {s.key: s for s in _ALL}
# Capabilities checked on another capability's run.
ALSO_USED_BY: Dict[str, Tuple[str, ...]] = {
    "task-logs": ("linear", "fail"),
    "status": ("linear",),
    "tags": ("linear",),
    "run-id-rules": ("linear",),
    "retry-with-catch": ("catch",),
    "get-triggered-run": ("linear",),
    "resume": ("fail",),
}
