"""@catch on a step that always fails, and @retry+@catch on a step that fails only once."""

from metaflow import FlowSpec, catch, current, retry, step


class MfxCatchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.doomed, self.flaky)

    @catch(var="doomed_error")
    @step
    def doomed(self):
        self.user_code_ran = True
        raise ValueError("Intentional error from the mfx compliance suite")
        self.next(self.join)  # unreachable: Metaflow reads the transition statically

    @retry(times=1, minutes_between_retries=0)
    @catch(var="flaky_error")
    @step
    def flaky(self):
        if current.retry_count == 0:
            raise ValueError("Intentional first-attempt error")
        self.succeeded_on = current.retry_count
        self.next(self.join)

    @step
    def join(self, inputs):
        self.doomed_error = str(inputs.doomed.doomed_error)
        self.flaky_error = inputs.flaky.flaky_error
        self.succeeded_on = inputs.flaky.succeeded_on
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxCatchFlow()
