"""@schedule: recorded in the plan when supported, refused otherwise."""

from metaflow import FlowSpec, schedule, step


@schedule(cron="0 3 * * ? *", timezone="Europe/Paris")
class PlumbingScheduledFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PlumbingScheduledFlow()
