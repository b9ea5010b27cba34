"""Fails in the middle step unless resumed: FAILED status (O22), and resume's second chance."""

from metaflow import FlowSpec, current, step


class MfxFailFlow(FlowSpec):
    @step
    def start(self):
        self.before = "ran"
        self.ran_in = current.run_id  # a resumed run clones this task: it keeps the origin's id
        self.next(self.boom)

    @step
    def boom(self):
        if current.origin_run_id is None:
            raise RuntimeError("Intentional failure of the mfx compliance suite")
        self.resumed_from = current.origin_run_id
        self.next(self.end)

    @step
    def end(self):
        self.done = True


if __name__ == "__main__":
    MfxFailFlow()
