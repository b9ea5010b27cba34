"""Outcomes of the unmutated presets' compliance runs, shared within one pytest session.

``test_temporal_preset.py`` and ``test_slurm_preset.py`` run the whole suite on a freshly
generated preset; their per-test outcomes are exactly the baseline each mutation check needs (a
mutant is only evaluable through tests that pass unmutated). Recording them here lets a mutation
check that runs later in the same session (``tests/mutations`` sorts after ``tests/compliance``)
skip its own baseline run instead of repeating the preset's runs. Every test file imports this
module as ``compliance.baselines`` so they share one dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Optional

from mutations.mutants import outcomes_from_report

#: preset ("temporal", "slurm") -> test function name (without parameters) -> outcome,
#: from the latest e2e run of that preset in this session
OUTCOMES: Dict[str, Dict[str, str]] = {}


def record(preset: str, data_file: Path) -> None:
    """Remember an e2e run's outcomes (replacing any earlier run of the same preset)."""
    OUTCOMES[preset] = dict(outcomes_from_report(data_file))


def recorded(preset: str, tests: Iterable[str]) -> Optional[Dict[str, str]]:
    """The recorded outcomes of ``tests``, or None unless every one of them was recorded."""
    known = OUTCOMES.get(preset, {})
    wanted = list(tests)
    if not wanted or any(t not in known for t in wanted):
        return None
    return {t: known[t] for t in wanted}
