"""The orchestrator rules stay silent on Metaflow's own Argo Workflows and Step Functions.

Both are reference implementations of the Deployer contract; a rule that fires on them is either
wrong or must declare ``applies_to_core = False``.
"""

from __future__ import annotations

import pytest

from mfx.engine.runner import lint_sources

from .conftest import ORCHESTRATOR_CODES, core_sources


def _core_rules():
    return [r for r in ORCHESTRATOR_CODES if getattr(r, "applies_to_core", True)]


@pytest.mark.parametrize("subdir", ["plugins/argo", "plugins/aws/step_functions"])
def test_no_findings_on_core_orchestrators(subdir):
    sources = core_sources(subdir)
    assert len(sources) > 5, "the core sources were not found"
    found = [
        f"{d.code} {d.path}:{d.line} {d.message}"
        for d in lint_sources(sources, _core_rules())
        if d.code != "MFX000"
    ]
    assert found == []


def test_rules_not_for_core_do_fire_on_core_only_where_documented():
    """Rules marked ``applies_to_core = False`` are those whose findings on core are by design."""
    skipped = {r.code for r in ORCHESTRATOR_CODES if not getattr(r, "applies_to_core", True)}
    sources = core_sources("plugins/aws/step_functions")
    codes = {d.code for d in lint_sources(sources, [r for r in ORCHESTRATOR_CODES if r.code in skipped])}
    # Step Functions' TriggeredRun has no `status` (orchestrator-contract A.5).
    assert "MFX105" in codes
