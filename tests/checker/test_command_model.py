"""Every command-builder shape of issue 11, section 2 (tests/checker/command_model): each INVALID
builder is flagged exactly at its ``# <-`` marks, each VALID one stays quiet."""

import pytest
from command_model import all_cases, run


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_command_shape(case):
    got = run(case)
    if case.invalid:
        assert sorted(got) == sorted(case.expected()), f"{case.title}: got {got}, want {sorted(case.expected())}"
    else:
        assert got == [], f"{case.title}: unexpected {got}"
