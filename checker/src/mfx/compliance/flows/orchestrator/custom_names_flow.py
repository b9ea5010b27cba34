"""Start and end steps with custom names (graph.start_step / end_step, never literal names)."""

from metaflow import FlowSpec, step


class MfxCustomNamesFlow(FlowSpec):
    @step(start=True)
    def begin(self):
        self.trail = ["begin"]
        self.next(self.process)

    @step
    def process(self):
        self.trail = self.trail + ["process"]
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        self.trail = self.trail + ["finish"]


if __name__ == "__main__":
    MfxCustomNamesFlow()
