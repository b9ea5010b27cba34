"""Parameters of every type, including names an orchestrator might use itself (retry_count)."""

from metaflow import FlowSpec, JSONType, Parameter, step


class MfxParamsFlow(FlowSpec):
    text = Parameter("text", type=str, default="default-text")
    count = Parameter("count", type=int, default=1)
    ratio = Parameter("ratio", type=float, default=0.5)
    flag = Parameter("flag", type=bool, default=True)
    payload = Parameter("payload", type=JSONType, default='{"k": [0]}')
    retry_count = Parameter("retry_count", type=int, default=0, help="collides with an orchestrator-internal name")
    untouched = Parameter("untouched", type=str, default="kept-default")

    @step
    def start(self):
        self.seen = {
            "text": self.text,
            "count": self.count,
            "ratio": self.ratio,
            "flag": self.flag,
            "payload": self.payload,
            "retry_count": self.retry_count,
            "untouched": self.untouched,
        }
        self.next(self.end)

    @step
    def end(self):
        self.seen_in_end = {"count": self.count, "flag": self.flag}


if __name__ == "__main__":
    MfxParamsFlow()
