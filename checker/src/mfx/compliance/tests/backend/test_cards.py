"""@card in the remote task: the card is written there and the launcher's client finds it."""

from __future__ import annotations

import pytest

from mfx.compliance.cards import card_problem
from mfx.compliance.expect import pitfall
from mfx.compliance.runspec import Spec
from mfx.compliance.tests.backend.runs import BackendRuns, task

CARDS = Spec("card_flow", "cards", "card_flow")
@pytest.mark.capability("cards")
@pytest.mark.mfx_run(CARDS)
def test_card_of_remote_task_is_retrievable(bk: BackendRuns) -> None:
    result = bk.shared(CARDS)
    assert result.status == "successful" and result.run is not None, bk.explain(
        result, "B28,B10", "the @card flow failed on the backend", fix="run flows/backend/card_flow.py with --with <backend> and read the task error",
    )
    start = task(result.run, "start")
    problem = card_problem(start)
    if not problem:
        return
    logs = (start.stdout or "") + "\n" + (start.stderr or "")
    if "does not exist" in logs:
        pid, fix = "B28", ("in the remote task_pre_step, register flow/run/step/task in the job's local metadata "
                           "(only where missing, older than the launcher's records so the sync back keeps those)")
    else:
        pid, fix = "B10", "set METAFLOW_CARD_<TYPE>ROOT=<datastore root>/mf.cards in the job env"
    card_lines = [line for line in logs.splitlines() if "card" in line.lower()][-15:]
    raise AssertionError(pitfall(
        pid, "%s; METAFLOW_CARD_* in the task: %s; card lines of the task's output:\n%s" % (problem, start.data.card_root_env, "\n".join(card_lines)),
        fix=fix,
    ))
