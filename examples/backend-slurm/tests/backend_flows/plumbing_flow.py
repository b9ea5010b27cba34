"""A small flow for the plumbing's fast path (local executor): foreach, retry, @environment, Config."""

import os

from metaflow import Config, FlowSpec, current, environment, retry, step


class PlumbingFlow(FlowSpec):
    cfg = Config("cfg", default_value={"greeting": "hi"})

    @step
    def start(self):
        print("start-token")
        self.items = [1, 2]
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.doubled = self.input * 2
        self.next(self.join)

    @environment(vars={"PLUMBING_VAR": "ok"})
    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        self.var = os.environ.get("PLUMBING_VAR")
        self.runtime_env = os.environ.get("METAFLOW_RUNTIME_ENVIRONMENT")
        self.no_local_root = "METAFLOW_DATASTORE_SYSROOT_LOCAL" not in os.environ
        self.greeting = self.cfg.greeting
        self.next(self.flaky)

    @retry(times=1, minutes_between_retries=0)
    @step
    def flaky(self):
        self.attempt = current.retry_count
        if current.retry_count == 0:
            raise RuntimeError("fails on attempt 0 on purpose")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PlumbingFlow()
