"""One step that sleeps: trigger() must return long before it ends (O24)."""

import time

from metaflow import FlowSpec, Parameter, step


class MfxSleepFlow(FlowSpec):
    seconds = Parameter("seconds", type=int, default=60, help="how long start sleeps")

    @step
    def start(self):
        time.sleep(self.seconds)
        self.next(self.end)

    @step
    def end(self):
        self.slept = self.seconds


if __name__ == "__main__":
    MfxSleepFlow()
