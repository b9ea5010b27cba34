"""Static split with a split inside one branch, and custom start/end step names."""

from metaflow import FlowSpec, step


class PlumbingBranchesFlow(FlowSpec):
    @step(start=True)
    def begin(self):
        self.origin = "begin"
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = "left"
        self.next(self.left_a, self.left_b)

    @step
    def left_a(self):
        self.part = "a"
        self.next(self.left_join)

    @step
    def left_b(self):
        self.part = "b"
        self.next(self.left_join)

    @step
    def left_join(self, inputs):
        self.side = "left:" + "".join(sorted(i.part for i in inputs))
        self.merge_artifacts(inputs, include=["origin"])
        self.next(self.both)

    @step
    def right(self):
        self.side = "right"
        self.next(self.both)

    @step
    def both(self, inputs):
        self.sides = sorted(i.side for i in inputs)
        self.merge_artifacts(inputs, include=["origin"])
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        self.summary = (self.origin, self.sides)


if __name__ == "__main__":
    PlumbingBranchesFlow()
