"""A foreach whose body is two steps long before the join."""

from metaflow import FlowSpec, step


class MfxMultiBodyForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = ["a", "b", "c"]
        self.next(self.first, foreach="items")

    @step
    def first(self):
        self.text = self.input + "1"
        self.next(self.second)

    @step
    def second(self):
        self.text = self.text + "2"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.texts = [i.text for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxMultiBodyForeachFlow()
