"""A flow whose only step is both start and end."""

from metaflow import FlowSpec, step


class MfxSingleStepFlow(FlowSpec):
    @step(start=True, end=True)
    def only(self):
        self.answer = 42


if __name__ == "__main__":
    MfxSingleStepFlow()
