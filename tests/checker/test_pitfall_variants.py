"""Every adversarial variant of issue 11, section 3 (tests/checker/pitfall_variants): each INVALID variant
is flagged exactly at its ``# <-`` marks, each near-miss VALID variant stays quiet."""

import pytest
from pitfall_variants import all_cases, run


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_variant(case):
    got = run(case)
    if case.invalid:
        assert sorted(got) == sorted(case.expected()), f"{case.title}: got {got}, want {sorted(case.expected())}"
    else:
        assert got == [], f"{case.title}: unexpected {got}"
