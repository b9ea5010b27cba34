"""@trigger with an explicit payload mapping: a published event starts a run whose parameters
come from the mapped payload fields; an unmapped or missing field leaves the default."""

from metaflow import FlowSpec, JSONType, Parameter, current, step, trigger


@trigger(event={"name": "mfx_compliance_event", "parameters": {"alpha": "field_a", "count": "count", "beta": "field_b", "conf": "conf"}})
class MfxEventFlow(FlowSpec):
    alpha = Parameter("alpha", default="alpha-default")
    count = Parameter("count", default=1, type=int)
    beta = Parameter("beta", default="beta-default")
    conf = Parameter("conf", default='{"k": 0}', type=JSONType)
    gamma = Parameter("gamma", default="gamma-default")  # not in the mapping: never set by an event

    @step
    def start(self):
        trig = current.get("trigger")
        self.trigger_names = [e.name for e in trig.events] if trig else None
        self.trigger_types = [e.type for e in trig.events] if trig else None
        self.seen = {"alpha": self.alpha, "count": self.count, "beta": self.beta, "conf": self.conf, "gamma": self.gamma}
        self.next(self.end)

    @step
    def end(self):
        trig = current.get("trigger")
        self.end_trigger_name = trig.event.name if trig else None


if __name__ == "__main__":
    MfxEventFlow()
