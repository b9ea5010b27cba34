"""A flow whose only step is both start and end."""

from metaflow import FlowSpec, step


class PlumbingSingleStepFlow(FlowSpec):
    @step
    def only(self):
        self.value = 7


if __name__ == "__main__":
    PlumbingSingleStepFlow()
