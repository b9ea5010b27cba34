"""@timeout(seconds=5) on a step that would sleep for minutes: the run must fail early."""

import time

from metaflow import FlowSpec, step, timeout


class MfxTimeoutSecondsFlow(FlowSpec):
    @timeout(seconds=5)
    @step
    def start(self):
        time.sleep(240)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxTimeoutSecondsFlow()
