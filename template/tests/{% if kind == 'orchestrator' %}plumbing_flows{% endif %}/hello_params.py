"""Linear flow with parameters of every type: data and parameters must reach every step."""

from metaflow import FlowSpec, JSONType, Parameter, current, step


class PlumbingHelloFlow(FlowSpec):
    alpha = Parameter("alpha", default="a-default")
    num = Parameter("num", type=int, default=1)
    ratio = Parameter("ratio", type=float, default=0.5)
    flag = Parameter("flag", type=bool, default=False)
    blob = Parameter("blob", type=JSONType, default='{"k": [1, 2]}')
    maybe = Parameter("maybe", default=None)

    @step
    def start(self):
        self.seen = [self.alpha, self.num, self.ratio, self.flag, self.blob, self.maybe]
        self.start_retry = current.retry_count
        self.next(self.middle)

    @step
    def middle(self):
        self.doubled = self.num * 2
        self.next(self.end)

    @step
    def end(self):
        self.final = (self.seen, self.doubled)


if __name__ == "__main__":
    PlumbingHelloFlow()
