"""No static @retry: the first attempt fails, so only a --with retry decorator can save the run (O28)."""

from metaflow import FlowSpec, current, step


class MfxFlakyOnceFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @step
    def flaky(self):
        if current.retry_count == 0:
            raise RuntimeError("Intentional failure: only a dynamic @retry gets past this")
        self.attempt = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxFlakyOnceFlow()
