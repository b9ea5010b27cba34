"""For from_deployment: @project (dotted deployment names), a Config, and parameters of each type."""

from metaflow import Config, FlowSpec, JSONType, Parameter, config_expr, current, project, step


@project(name=config_expr("cfg.project"))
class MfxRoundtripFlow(FlowSpec):
    cfg = Config("cfg", default_value={"project": "mfx_rt_default", "batch_size": 8})
    label = Parameter("label", type=str, default="none")
    number = Parameter("number", type=int, default=0)
    scale = Parameter("scale", type=float, default=1.0)
    enabled = Parameter("enabled", type=bool, default=False)
    extra = Parameter("extra", type=JSONType, default="{}")

    @step
    def start(self):
        self.values = [self.label, self.number, self.scale, self.enabled, self.extra]
        self.next(self.end)

    @step
    def end(self):
        self.branch = current.branch_name
        self.project = current.project_name
        self.batch_size = self.cfg.batch_size


if __name__ == "__main__":
    MfxRoundtripFlow()
