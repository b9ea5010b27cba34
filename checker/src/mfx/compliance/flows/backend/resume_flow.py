"""`middle` fails in the original run and succeeds when resumed (B4: --clone-run-id)."""

from metaflow import FlowSpec, current, step


class BackendResumeFlow(FlowSpec):
    @step
    def start(self):
        self.value = 21
        self.next(self.middle)

    @step
    def middle(self):
        if current.origin_run_id is None:
            raise RuntimeError("Intentional failure: this step succeeds only when resumed")
        self.value = self.value * 2
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BackendResumeFlow()
