"""The smallest flow: start -> end (launch failures, registration, datastore checks)."""

from metaflow import FlowSpec, step


class BackendLinearFlow(FlowSpec):
    @step
    def start(self):
        self.value = 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BackendLinearFlow()
