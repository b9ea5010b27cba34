"""A static split into two branches and their join."""

from metaflow import FlowSpec, step


class MfxBranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.label = "left"
        self.next(self.join)

    @step
    def right(self):
        self.label = "right"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.labels = sorted(i.label for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxBranchFlow()
