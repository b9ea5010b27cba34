"""@timeout(minutes=1) on a step that would sleep for 4 minutes: minutes must count too (O17)."""

import time

from metaflow import FlowSpec, step, timeout


class MfxTimeoutMinutesFlow(FlowSpec):
    @timeout(minutes=1)
    @step
    def start(self):
        time.sleep(240)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxTimeoutMinutesFlow()
