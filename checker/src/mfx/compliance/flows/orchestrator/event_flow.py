"""A flow with @trigger: deploying it registers an event trigger."""

from metaflow import FlowSpec, step, trigger


@trigger(event="mfx_compliance_event")
class MfxEventFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxEventFlow()
