"""@resources on two branches: the orchestrator passes or ignores them, the run must not break."""

from metaflow import FlowSpec, resources, step


class MfxResourcesFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.small, self.medium)

    @resources(cpu=1, memory=256)
    @step
    def small(self):
        self.label = "small"
        self.next(self.join)

    @resources(cpu=1, memory=512)
    @step
    def medium(self):
        self.label = "medium"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.labels = sorted(i.label for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxResourcesFlow()
