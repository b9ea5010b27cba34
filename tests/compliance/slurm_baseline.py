"""Outcomes of the unmutated Slurm preset's compliance run, shared within one pytest session.

``test_slurm_preset.py`` runs the whole backend suite on a freshly generated preset; its per-test
outcomes are exactly the baseline the backend mutation check needs (a mutant is only evaluable
through tests that pass unmutated). Recording them here lets the mutation check, when it runs
later in the same session, skip its own baseline run instead of repeating ~30 Slurm tasks.
Both test files import this module as ``compliance.slurm_baseline`` so they share one dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

from mutations.mutants import outcomes_from_report

#: test function name (without parameters) -> outcome, from the latest e2e run in this session
OUTCOMES: Dict[str, str] = {}


def record(data_file: Path) -> None:
    """Remember the e2e run's outcomes (replacing any earlier run's)."""
    OUTCOMES.clear()
    OUTCOMES.update(outcomes_from_report(data_file))
