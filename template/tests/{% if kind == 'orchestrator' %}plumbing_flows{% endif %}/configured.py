"""Config values and @project: they must reach every task, not only init."""

import os

from metaflow import Config, FlowSpec, config_expr, current, environment, project, step


@project(name=config_expr("cfg.project"))
class PlumbingConfigFlow(FlowSpec):
    cfg = Config("cfg", default_value={"project": "plumbing_default", "size": 5})

    @environment(vars={"PLUMBING_SIZE": config_expr("str(cfg.size)")})
    @step
    def start(self):
        self.start_project = current.project_name
        self.next(self.end)

    @environment(vars={"PLUMBING_SIZE": config_expr("str(cfg.size)")})
    @step
    def end(self):
        self.project = current.project_name
        self.branch = current.branch_name
        self.size_env = os.environ.get("PLUMBING_SIZE")
        self.size_cfg = self.cfg.size


if __name__ == "__main__":
    PlumbingConfigFlow()
