"""Three linear steps; data flows between them and the first attempt's retry count is recorded."""

from metaflow import FlowSpec, current, step


class MfxLinearFlow(FlowSpec):
    @step
    def start(self):
        self.words = ["linear"]
        self.first_retry_count = current.retry_count  # no @retry: must be 0 (O15 1-based counters)
        self.next(self.middle)

    @step
    def middle(self):
        print("mfx-stdout-token")  # must reach task.stdout: the orchestrator saves task logs
        self.words = self.words + ["middle"]
        self.next(self.end)

    @step
    def end(self):
        self.words = self.words + ["end"]
        self.message = "-".join(self.words)


if __name__ == "__main__":
    MfxLinearFlow()
