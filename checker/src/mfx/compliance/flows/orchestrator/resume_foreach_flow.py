"""Resume: a foreach whose second split fails in a fresh run (mode "fail") and succeeds when
resumed; every step records the run it executed in, so a cloned task (origin's run id) is told
from one that ran again."""

from metaflow import FlowSpec, Parameter, current, step


class MfxResumeForeachFlow(FlowSpec):
    mode = Parameter("mode", default="fail")

    @step
    def start(self):
        self.items = [0, 1, 2]
        self.ran_in = current.run_id
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.ran_in = current.run_id
        if self.input == 1 and self.mode == "fail" and current.origin_run_id is None:
            raise RuntimeError("Intentional failure of split 1 (mfx compliance resume check)")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.body_ran_in = [i.ran_in for i in inputs]
        self.ran_in = current.run_id
        self.next(self.end)

    @step
    def end(self):
        self.ran_in = current.run_id
        self.origin = current.origin_run_id


if __name__ == "__main__":
    MfxResumeForeachFlow()
