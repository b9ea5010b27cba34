"""@trigger: recorded in the plan when supported, refused otherwise."""

from metaflow import FlowSpec, step, trigger


@trigger(event="plumbing_event")
class PlumbingTriggeredFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PlumbingTriggeredFlow()
