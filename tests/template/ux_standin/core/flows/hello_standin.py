"""STAND-IN flow (see ../../README.md)."""

from metaflow import FlowSpec, step


class HelloStandinFlow(FlowSpec):
    @step
    def start(self):
        self.message = "hello from the stand-in"
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    HelloStandinFlow()
