"""Adversarial variants of each pitfall shape of issue 11, section 3.

Each case is a small project (``{path: source}``) written the way published extensions write
code. A ``bad`` case marks the line where the finding belongs with ``# <-``; a ``good`` case is
a near miss that must stay quiet. ``tests/checker/test_pitfall_variants.py`` runs them all and
prints the recall per shape (``cd tests/checker && python -m pitfall_variants``).
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Dict

MARK = "# <-"


@dataclasses.dataclass(frozen=True)
class Case:
    pitfall: str
    code: str  # the rule that must (bad) or must not (good) report
    title: str
    files: Dict[str, str]
    invalid: bool

    @property
    def sources(self) -> Dict[str, str]:
        return {p: textwrap.dedent(s).lstrip("\n") for p, s in self.files.items()}

    def expected(self) -> set:
        """(path, line) of every ``# <-`` mark."""
        return {
            (p, i)
            for p, s in self.sources.items()
            for i, line in enumerate(s.splitlines(), 1)
            if MARK in line
        }

    @property
    def id(self) -> str:
        return f"{self.pitfall}-{self.code}-{'bad' if self.invalid else 'good'}-{self.title}"


def bad(pitfall: str, code: str, title: str, files: Dict[str, str]) -> Case:
    return Case(pitfall, code, title, files, True)


def good(pitfall: str, code: str, title: str, files: Dict[str, str]) -> Case:
    return Case(pitfall, code, title, files, False)


def all_cases() -> list:
    from . import b10, o2, o3, o9, o10, o15, o21, o22, o25

    return [c for m in (o10, o9, o15, o2, o22, o21, b10, o3, o25) for c in m.CASES]


def run(case: Case):
    """The diagnostics of ``case.code`` on the case's files: [(path, line)]."""
    from mfx.engine.runner import all_rules, lint_sources

    rules = [r for r in all_rules() if r.code == case.code]
    assert rules, case.code
    return [(d.path, d.line) for d in lint_sources(case.sources, rules) if d.code == case.code]
