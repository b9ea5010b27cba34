"""A flow with @schedule: deploying it must register the cron with the engine."""

from metaflow import FlowSpec, schedule, step


@schedule(cron="0 3 * * ? *")
class ScheduledFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ScheduledFlow()
