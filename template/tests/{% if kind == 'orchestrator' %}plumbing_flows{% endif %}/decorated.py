"""@retry, @catch, @timeout and @environment, each inside the plumbing's retry budget."""

import os
import time

from metaflow import FlowSpec, catch, current, environment, resources, retry, step, timeout


class PlumbingDecoratedFlow(FlowSpec):
    @environment(vars={"PLUMBING_GREETING": "hello"})
    @step
    def start(self):
        self.greeting = os.environ.get("PLUMBING_GREETING")
        self.items = [1, 2]
        self.next(self.body, foreach="items")

    @resources(cpu=1, memory=512)
    @environment(vars={"PLUMBING_IN_FOREACH": "yes"})
    @step
    def body(self):
        self.in_foreach = os.environ.get("PLUMBING_IN_FOREACH")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.in_foreach = [i.in_foreach for i in inputs]
        self.merge_artifacts(inputs, include=["greeting"])
        self.next(self.flaky)

    @retry(times=1, minutes_between_retries=0)
    @step
    def flaky(self):
        self.flaky_attempt = current.retry_count
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails on purpose")
        self.next(self.caught)

    @retry(times=1, minutes_between_retries=0)
    @catch(var="caught_error")
    @step
    def caught(self):
        self.caught_attempts = current.retry_count
        raise ValueError("always fails on purpose")
        self.next(self.slow)

    @catch(var="timeout_error")
    @timeout(seconds=2)
    @step
    def slow(self):
        time.sleep(60)
        self.next(self.end)

    @step
    def end(self):
        self.plain_retry = current.retry_count


if __name__ == "__main__":
    PlumbingDecoratedFlow()
