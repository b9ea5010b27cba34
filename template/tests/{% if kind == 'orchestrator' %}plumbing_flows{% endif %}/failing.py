"""A branch fails: the run must fail and the join must never start."""

from metaflow import FlowSpec, step


class PlumbingFailingFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.boom, self.fine)

    @step
    def boom(self):
        raise RuntimeError("intentional failure")
        self.next(self.join)

    @step
    def fine(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PlumbingFailingFlow()
