"""A step that always fails and has no @catch: only a --with catch decorator can save the run (O28).

@catch acts inside the task process (it stores the exception and lets the step end), so an
orchestrator that forgets to pass deploy-time --with decorators to the task fails this run, even
when it sizes its native retries from the plan.
"""

from metaflow import FlowSpec, step


class MfxAlwaysFailsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.boom)

    @step
    def boom(self):
        raise RuntimeError("Intentional failure: only a dynamic @catch gets past this")
        self.next(self.end)  # unreachable: Metaflow reads the transition statically

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxAlwaysFailsFlow()
