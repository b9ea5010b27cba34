"""A recursive switch (a step that loops on itself) and a switch whose cases merge back."""

from metaflow import FlowSpec, Parameter, step


class PlumbingSwitchFlow(FlowSpec):
    rounds = Parameter("rounds", type=int, default=3)

    @step
    def start(self):
        self.count = 0
        self.next(self.loop)

    @step
    def loop(self):
        self.count += 1
        self.again = "yes" if self.count < self.rounds else "no"
        self.next({"yes": self.loop, "no": self.route}, condition="again")

    @step
    def route(self):
        self.level = "high" if self.count >= 3 else "low"
        self.next({"high": self.high, "low": self.low}, condition="level")

    @step
    def high(self):
        self.picked = "high"
        self.next(self.merge)

    @step
    def low(self):
        self.picked = "low"
        self.next(self.merge)

    @step
    def merge(self):
        self.result = (self.count, self.picked)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PlumbingSwitchFlow()
