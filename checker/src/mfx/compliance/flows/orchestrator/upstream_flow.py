"""The upstream flow of the @trigger_on_finish check; its end step has a custom name."""

from metaflow import FlowSpec, step


class MfxUpstreamFlow(FlowSpec):
    @step
    def start(self):
        self.made_by = "upstream"
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        pass


if __name__ == "__main__":
    MfxUpstreamFlow()
