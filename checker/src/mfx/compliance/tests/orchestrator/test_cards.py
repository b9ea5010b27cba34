"""@card in deployed tasks: the card is where the client reads it (``<ds-root>/mf.cards``)."""

from __future__ import annotations

import pytest

from mfx.compliance.cards import card_problem
from mfx.compliance.expect import pitfall
from mfx.compliance.harness import Harness
from mfx.compliance.runspec import Spec

CARDS = Spec("cards", "cards", "card_flow")


@pytest.mark.capability("cards")
@pytest.mark.mfx_run(CARDS)
def test_card_of_deployed_task_is_retrievable(h: Harness) -> None:
    run = h.finish(CARDS).run
    task = run["start"].task
    problem = card_problem(task)
    assert not problem, pitfall(
        "O32", problem + "; METAFLOW_CARD_* in the task: %s" % task.data.card_root_env,
        fix="give every task the card root of the deploy-time datastore root (<root>/mf.cards): "
        "METAFLOW_CARD_<TYPE>ROOT, and for the local datastore an absolute METAFLOW_DATASTORE_LOCAL_DIR",
    )
