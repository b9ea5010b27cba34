"""A split nested inside one branch of another split, with custom start and end step names."""

from metaflow import FlowSpec, step


class MfxSplitInBranchFlow(FlowSpec):
    @step(start=True)
    def entry(self):
        self.next(self.outer_a, self.outer_b)

    @step
    def outer_a(self):
        self.next(self.inner_x, self.inner_y)

    @step
    def inner_x(self):
        self.sub = "x"
        self.next(self.inner_join)

    @step
    def inner_y(self):
        self.sub = "y"
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.subs = sorted(i.sub for i in inputs)
        self.label = "a"
        self.next(self.outer_join)

    @step
    def outer_b(self):
        self.label = "b"
        self.subs = []
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.labels = sorted(i.label for i in inputs)
        self.subs = sorted(s for i in inputs for s in i.subs)
        self.next(self.done)

    @step(end=True)
    def done(self):
        pass


if __name__ == "__main__":
    MfxSplitInBranchFlow()
