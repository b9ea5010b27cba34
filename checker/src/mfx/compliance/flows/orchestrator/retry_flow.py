"""A step that fails on its first attempt under @retry; a step without @retry records its count."""

from metaflow import FlowSpec, current, retry, step


class MfxRetryFlow(FlowSpec):
    @step
    def start(self):
        self.plain_retry_count = current.retry_count  # must be 0: 0-based attempts (O15)
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        if current.retry_count < 1:
            raise RuntimeError("Intentional first-attempt failure")
        self.succeeded_on = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxRetryFlow()
