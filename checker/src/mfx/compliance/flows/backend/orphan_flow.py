"""A failed run must not leave jobs running (B20).

Branch 0 waits until branch 1 is running (its heartbeat exists in S3), then fails; Metaflow then
SIGKILLs branch 1's trampoline. Branch 1 writes a heartbeat every 2 s for up to 240 s: once the
run has ended the heartbeat must stop changing.
"""

import time

from metaflow import S3, FlowSpec, step

HEARTBEAT = "heartbeat"


class BackendOrphanFlow(FlowSpec):
    @step
    def start(self):
        self.items = ["fail", "sleep"]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        with S3(run=self) as s3:
            if self.input == "sleep":
                started = time.time()
                while time.time() - started < 240:
                    s3.put(HEARTBEAT, "%.3f" % time.time())
                    time.sleep(2)
            else:
                started = time.time()
                while time.time() - started < 180:
                    if s3.get(HEARTBEAT, return_missing=True).exists:
                        break
                    time.sleep(1)
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
