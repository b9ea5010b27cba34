"""Every rule's own VALID and INVALID examples hold."""

import pytest
from mfx.engine.runner import all_rules
from mfx.testing import check_examples


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: f"{r.code}-{r.name}")
def test_rule_examples(rule):
    assert check_examples(rule) == []
