"""A flow with @schedule: deploying it registers a schedule (it is never waited for)."""

from metaflow import FlowSpec, schedule, step


@schedule(cron="0 3 1 1 *")
class MfxScheduleFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxScheduleFlow()
