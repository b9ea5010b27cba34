"""A @card step: the card must be found by get_cards(task) where the client reads it (<ds-root>/mf.cards)."""

import os

from metaflow import FlowSpec, card, current, step
from metaflow.cards import Markdown


class MfxCardFlow(FlowSpec):
    @card(type="blank", id="mfx")
    @step
    def start(self):
        # the run id in the card's text proves the card found is this task's, not an older one
        current.card["mfx"].append(Markdown("mfx-card-token %s" % current.run_id))
        # evidence for a failure message: what decides the card root in this task
        self.card_root_env = {k: v for k, v in os.environ.items() if k.startswith("METAFLOW_CARD_") or k == "METAFLOW_DATASTORE_LOCAL_DIR"}
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxCardFlow()
