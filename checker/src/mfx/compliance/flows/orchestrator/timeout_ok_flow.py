"""@timeout with room to spare: the step finishes normally."""

import time

from metaflow import FlowSpec, step, timeout


class MfxTimeoutOkFlow(FlowSpec):
    @timeout(minutes=10)
    @step
    def start(self):
        time.sleep(1)
        self.done = True
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxTimeoutOkFlow()
