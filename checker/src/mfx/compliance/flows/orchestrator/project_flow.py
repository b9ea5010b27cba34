"""@project: every task records the branch it computed itself (from --branch/--production/METAFLOW_OWNER)."""

from metaflow import FlowSpec, current, project, step


@project(name="mfx_compliance")
class MfxProjectFlow(FlowSpec):
    @step
    def start(self):
        self.start_branch = current.branch_name
        self.next(self.end)

    @step
    def end(self):
        self.end_branch = current.branch_name
        self.end_production = current.is_production
        self.end_project = current.project_name


if __name__ == "__main__":
    MfxProjectFlow()
