"""@trigger_on_finish: a successful run of MfxUpstreamFlow starts this flow, which reads
current.trigger (the run that finished) in its steps."""

from metaflow import FlowSpec, Parameter, current, step, trigger_on_finish


@trigger_on_finish(flow="MfxUpstreamFlow")
class MfxFinishTriggeredFlow(FlowSpec):
    mode = Parameter("mode", default="mode-default")

    @step
    def start(self):
        trig = current.get("trigger")
        self.trigger_run = trig.run.pathspec if trig and trig.run else None
        self.trigger_event = (trig.event.name, trig.event.type, trig.event.id) if trig else None
        self.upstream_data = trig.run.data.made_by if trig and trig.run else None
        self.by_name = trig["MfxUpstreamFlow"].pathspec if trig and "MfxUpstreamFlow" in trig else None
        self.next(self.end)

    @step
    def end(self):
        trig = current.get("trigger")
        self.end_trigger_run = trig.run.pathspec if trig and trig.run else None


if __name__ == "__main__":
    MfxFinishTriggeredFlow()
