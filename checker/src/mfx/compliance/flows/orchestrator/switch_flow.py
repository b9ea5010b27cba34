"""A split-switch: only the branch named by the parameter runs, then both paths merge."""

from metaflow import FlowSpec, Parameter, step


class MfxSwitchFlow(FlowSpec):
    route = Parameter("route", default="high", help="high or low")

    @step
    def start(self):
        self.choice = self.route
        self.next({"high": self.high, "low": self.low}, condition="choice")

    @step
    def high(self):
        self.result = "took-high"
        self.next(self.merge)

    @step
    def low(self):
        self.result = "took-low"
        self.next(self.merge)

    @step
    def merge(self):
        self.final = self.result
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxSwitchFlow()
