"""docs/capabilities.md is what tools/capabilities_doc.py generates from the capability registry
and the presets' capabilities.py (drift check), and it covers every capability and preset."""

from __future__ import annotations

import importlib.util
import sys

from support.generate import REPO

spec = importlib.util.spec_from_file_location("capabilities_doc", REPO / "tools" / "capabilities_doc.py")
doc = importlib.util.module_from_spec(spec)
sys.modules["capabilities_doc"] = doc
spec.loader.exec_module(doc)


def test_capabilities_doc_is_up_to_date():
    assert doc.OUT.read_text() == doc.render(), "docs/capabilities.md is stale: run python tools/capabilities_doc.py"


def test_every_capability_and_preset_is_in_the_matrix():
    text = doc.OUT.read_text()
    for kind in (doc.registry.ORCHESTRATOR, doc.registry.BACKEND):
        for cap in doc.registry.for_kind(kind):
            assert f"| `{cap.id}` | {cap.level} |" in text, cap.id
    found = doc.presets()
    assert set(found) == {"orchestrator", "backend"}
    assert {"blank", "temporal"} <= set(found["orchestrator"]) and {"blank", "slurm"} <= set(found["backend"])
    # The complete presets declare what they support; the ids are checked against the registry.
    assert found["orchestrator"]["temporal"] and found["backend"]["slurm"]


def test_check_mode(capsys):
    assert doc.main(["--check"]) == 0
