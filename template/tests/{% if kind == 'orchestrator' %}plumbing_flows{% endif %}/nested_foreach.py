"""Foreach with a multi-step body, nested three levels deep (2 x 2 x 2 leaves)."""

from metaflow import FlowSpec, Parameter, step


class PlumbingNestedForeachFlow(FlowSpec):
    middle_width = Parameter("middle_width", type=int, default=2)
    inner_width = Parameter("inner_width", type=int, default=2)

    @step
    def start(self):
        self.outer = ["a", "b"]
        self.next(self.outer_body, foreach="outer")

    @step
    def outer_body(self):
        self.o = self.input
        self.middle = [1, 2, 3][: self.middle_width]
        self.next(self.middle_body, foreach="middle")

    @step
    def middle_body(self):
        self.m = self.input
        self.inner = ["x", "y", "z"][: self.inner_width]
        self.next(self.leaf, foreach="inner")

    @step
    def leaf(self):
        self.label = "%s%d%s" % (self.o, self.m, self.input)
        self.next(self.leaf_second)

    @step
    def leaf_second(self):
        self.label = self.label.upper()
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.labels = [i.label for i in inputs]
        self.next(self.middle_join)

    @step
    def middle_join(self, inputs):
        self.labels = [l for i in inputs for l in i.labels]
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.labels = [l for i in inputs for l in i.labels]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PlumbingNestedForeachFlow()
