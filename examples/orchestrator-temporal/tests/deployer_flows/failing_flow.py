"""A flow whose middle step raises (unless --succeed): the run must end FAILED, never hang (O22)."""

from metaflow import FlowSpec, Parameter, step


class FailingFlow(FlowSpec):
    succeed = Parameter("succeed", default=False, type=bool, help="set to run through")

    @step
    def start(self):
        self.next(self.explode)

    @step
    def explode(self):
        if not self.succeed:
            raise RuntimeError("this step fails on purpose")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FailingFlow()
