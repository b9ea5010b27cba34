"""Shell commands in YAML/JSON documents, templates and Python strings feed the command model
(issue 11, section 1, second bullet; tests/checker/shell_commands): each INVALID carrier is
flagged exactly at its ``# <-`` marks, each VALID one (and every near miss) stays quiet."""

import pytest
from shell_commands import all_cases, run


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_shell_carrier(case):
    got = run(case)
    if case.invalid:
        assert sorted(got) == sorted(case.expected()), f"{case.title}: got {got}, want {sorted(case.expected())}"
    else:
        assert got == [], f"{case.title}: unexpected {got}"
