"""Three nested foreach levels of two items each (8 leaf tasks)."""

from metaflow import FlowSpec, step


class MfxNested3LevelFlow(FlowSpec):
    @step
    def start(self):
        self.level1 = ["a", "b"]
        self.next(self.one, foreach="level1")

    @step
    def one(self):
        self.path = self.input
        self.level2 = ["c", "d"]
        self.next(self.two, foreach="level2")

    @step
    def two(self):
        self.path = self.path + self.input
        self.level3 = ["e", "f"]
        self.next(self.three, foreach="level3")

    @step
    def three(self):
        self.path = self.path + self.input
        self.next(self.join3)

    @step
    def join3(self, inputs):
        self.paths = [i.path for i in inputs]
        self.next(self.join2)

    @step
    def join2(self, inputs):
        self.paths = [p for i in inputs for p in i.paths]
        self.next(self.join1)

    @step
    def join1(self, inputs):
        self.paths = [p for i in inputs for p in i.paths]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxNested3LevelFlow()
