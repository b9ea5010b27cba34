"""@trigger(event=<plain name>): every parameter is filled from the payload field of its own name."""

from metaflow import FlowSpec, JSONType, Parameter, current, step, trigger


@trigger(event="mfx_compliance_plain_event")
class MfxPlainEventFlow(FlowSpec):
    label = Parameter("label", default="label-default")
    size = Parameter("size", default=0, type=int)
    conf = Parameter("conf", default='{"k": 0}', type=JSONType)
    kept = Parameter("kept", default="kept-default")  # absent from the payload: default

    @step
    def start(self):
        trig = current.get("trigger")
        self.trigger_name = trig.event.name if trig else None
        self.seen = {"label": self.label, "size": self.size, "conf": self.conf, "kept": self.kept}
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxPlainEventFlow()
