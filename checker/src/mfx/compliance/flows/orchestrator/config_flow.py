"""A Config that drives @project and @environment: it must reach every task, not only init."""

import os

from metaflow import Config, FlowSpec, config_expr, current, environment, project, step


@project(name=config_expr("cfg.project"))
class MfxConfigFlow(FlowSpec):
    cfg = Config("cfg", default_value={"project": "mfx_cfg_default", "size": 1})
    env_cfg = Config("env_cfg", default_value={"MFX_FROM_CONFIG": "config-default"})

    @step
    def start(self):
        self.start_project = current.project_name
        self.next(self.end)

    @environment(vars=config_expr("env_cfg"))
    @step
    def end(self):
        # Evaluated in the end task's own process: wrong if the task lacks the config (O11).
        self.end_project = current.project_name
        self.size = self.cfg.size
        self.from_config_env = os.environ.get("MFX_FROM_CONFIG")


if __name__ == "__main__":
    MfxConfigFlow()
