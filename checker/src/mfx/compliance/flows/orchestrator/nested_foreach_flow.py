"""A 2x2 nested foreach: outer letters, inner numbers."""

from metaflow import FlowSpec, step


class MfxNestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.letters = ["p", "q"]
        self.next(self.outer, foreach="letters")

    @step
    def outer(self):
        self.letter = self.input
        self.numbers = [1, 2]
        self.next(self.inner, foreach="numbers")

    @step
    def inner(self):
        self.pair = "%s%d" % (self.letter, self.input)
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.pairs = [i.pair for i in inputs]
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.pairs = [p for i in inputs for p in i.pairs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxNestedForeachFlow()
