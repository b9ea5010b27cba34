"""Outcomes of the unmutated Slurm preset's compliance run, shared within one pytest session.

``test_slurm_preset.py`` runs the whole backend suite on a freshly generated preset; its per-test
outcomes are exactly the baseline the backend mutation check needs (a mutant is only evaluable
through tests that pass unmutated). Recording them here lets the mutation check, when it runs
later in the same session, skip its own baseline run instead of repeating ~30 Slurm tasks.
Both test files import this module as ``compliance.slurm_baseline`` so they share one dict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

#: test function name (without parameters) -> outcome, from the latest e2e run in this session
OUTCOMES: Dict[str, str] = {}


def outcomes_from_report(data_file: Path) -> Dict[str, str]:
    """Test name -> outcome from a ``compliance.json`` (a failed parametrisation wins)."""
    outcomes: Dict[str, str] = {}
    for row in json.loads(data_file.read_text())["capabilities"]:
        for test in row["tests"]:
            base = test["name"].split("[")[0]
            if test["outcome"] in ("failed", "error") or base not in outcomes:
                outcomes[base] = test["outcome"]
    return outcomes


def record(data_file: Path) -> None:
    """Remember the e2e run's outcomes (replacing any earlier run's)."""
    OUTCOMES.clear()
    OUTCOMES.update(outcomes_from_report(data_file))
