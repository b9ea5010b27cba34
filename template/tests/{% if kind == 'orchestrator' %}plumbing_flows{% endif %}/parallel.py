"""@parallel (num_parallel): no orchestrator built on this plumbing can run it."""

from metaflow import FlowSpec, parallel, step


class PlumbingParallelFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=2)

    @parallel
    @step
    def train(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PlumbingParallelFlow()
