"""A failed run must not leave jobs running (B20).

Branch 0 waits until branch 1 is running (its heartbeat exists in S3), then fails; Metaflow then
SIGKILLs branch 1's trampoline. Branch 1 writes a heartbeat every 2 s for up to 240 s: once the
run has ended the heartbeat must stop changing.

The scenario needs both jobs at once. Right before failing, branch 0 records in ``witness``
whether the sibling was really alive then (its heartbeat changed within the last seconds): a
backend that runs jobs one at a time never has a sibling running, and the test then reports
"not exercised" instead of passing.
"""

import time

from metaflow import S3, FlowSpec, Parameter, step

HEARTBEAT = "heartbeat"
WITNESS = "witness"
ALIVE_WINDOW = 6  # seconds: the heartbeat (every 2 s) must change within this to count as alive


class BackendOrphanFlow(FlowSpec):
    beat_for = Parameter("beat_for", default=240, type=int, help="seconds the sibling writes its heartbeat")
    wait_for = Parameter("wait_for", default=180, type=int, help="seconds the failing task waits for the sibling")

    @step
    def start(self):
        self.items = ["fail", "sleep"]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        with S3(run=self) as s3:
            if self.input == "sleep":
                started = time.time()
                while time.time() - started < self.beat_for:
                    s3.put(HEARTBEAT, "%.3f" % time.time())
                    time.sleep(2)
            else:
                started = time.time()
                first = None
                while time.time() - started < self.wait_for:
                    obj = s3.get(HEARTBEAT, return_missing=True)
                    if obj.exists:
                        first = obj.text
                        break
                    time.sleep(1)
                witness = "never: no heartbeat of the sibling within %d s" % self.wait_for
                if first is not None:
                    time.sleep(ALIVE_WINDOW)
                    now = s3.get(HEARTBEAT, return_missing=True).text
                    if now != first:
                        witness = "alive: heartbeat %s then %s" % (first, now)
                    else:
                        witness = "ended: heartbeat unchanged at %s for %d s" % (first, ALIVE_WINDOW)
                s3.put(WITNESS, "%s; failing at %.3f" % (witness, time.time()))
                raise RuntimeError("Intentional failure while a sibling task runs")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BackendOrphanFlow()
