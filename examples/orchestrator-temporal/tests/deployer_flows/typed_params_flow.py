"""Parameters of every kind the deployment record must describe for from_deployment (O23)."""

from metaflow import FlowSpec, JSONType, Parameter, step


class TypedParamsFlow(FlowSpec):
    text = Parameter("text", default="hi", help="a string")
    count = Parameter("count", default=3, type=int, help="an int with '''quotes'''")
    ratio = Parameter("ratio", default=0.5, help="a float inferred from the default")
    flag = Parameter("flag", default=False, type=bool)
    payload = Parameter("payload", type=JSONType, default='{"a": 1}')
    needed = Parameter("needed-value", required=True, help="a required, dashed name")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TypedParamsFlow()
