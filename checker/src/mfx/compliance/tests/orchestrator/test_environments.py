"""Package environments: a @conda step runs in the environment Metaflow's conda bootstrap built (O27)."""

from __future__ import annotations

import pytest

from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness, task_data
from mfx.compliance.probes import NOT_RUN_PREFIX, conda_unreachable


@pytest.mark.capability("conda")
def test_conda_step_gets_its_environment(h: Harness, mfx_tag: str) -> None:
    reason = conda_unreachable()
    if reason:  # no pass without the scenario: the matrix says "not run" with the reason
        pytest.skip(f"{NOT_RUN_PREFIX} {reason}")
    outcome = h.run("conda_flow", tags=[mfx_tag], environment="conda", test="test_conda_step_gets_its_environment")
    version = task_data(outcome.run, "start").six_version
    assert version == "1.16.0", pitfall(
        "O27", f"the @conda step imported six {version}, not the pinned 1.16.0: it did not run in its conda environment",
        fix="pass --environment (and the package suffixes) from the deploy-time command to every step command",
    )
