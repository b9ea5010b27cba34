"""A foreach over three items; the body records its index and the join keeps split order."""

from metaflow import FlowSpec, step


class MfxForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [3, 1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.value = self.input * 10
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = [i.value for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxForeachFlow()
