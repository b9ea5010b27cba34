"""@environment vars on a plain step and on foreach bodies, static and Config-driven."""

import os

from metaflow import Config, FlowSpec, config_expr, environment, step


class MfxEnvFlow(FlowSpec):
    body_env = Config("body_env", default_value={"MFX_BODY_CFG": "body-default"})

    @environment(vars={"MFX_STATIC": "static-value"})
    @step
    def start(self):
        self.static = os.environ.get("MFX_STATIC")
        self.items = [0, 1]
        self.next(self.body, foreach="items")

    @environment(vars=config_expr("body_env"))
    @step
    def body(self):
        self.body_value = os.environ.get("MFX_BODY_CFG")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.body_values = [i.body_value for i in inputs]
        self.next(self.end)

    @environment(vars={"MFX_END": "end-value"})
    @step
    def end(self):
        self.end_value = os.environ.get("MFX_END")


if __name__ == "__main__":
    MfxEnvFlow()
