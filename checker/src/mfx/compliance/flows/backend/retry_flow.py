"""Retries on the backend (B14, B15, B16, B26).

`flaky` fails on attempt 0 and records every start in S3 (a platform that re-runs an attempt shows
extra starts); `killed` kills its whole job with SIGKILL on attempt 0 and waits a minute between attempts
(@retry minutes_between_retries=1), recording each start time.
"""

import os
import signal
import time
import uuid

from metaflow import S3, FlowSpec, current, retry, step


def _mark(run, name):
    with S3(run=run) as s3:
        s3.put("starts/%s/%d-%s" % (name, current.retry_count, uuid.uuid4().hex[:8]), str(time.time()))


class BackendRetryFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=1, minutes_between_retries=0)
    @step
    def flaky(self):
        _mark(self, "flaky")
        self.attempt_seen = current.retry_count
        if current.retry_count == 0:
            raise RuntimeError("Intentional failure on attempt 0")
        self.next(self.killed)

    @retry(times=1, minutes_between_retries=1)
    @step
    def killed(self):
        _mark(self, "killed")
        self.killed_attempt = current.retry_count
        if current.retry_count == 0:
            # the whole job dies by SIGKILL (as with an OOM killer or a node agent): the engine
            # reports a signal death (Slurm: ExitCode=0:9), not an ordinary exit code (B26)
            os.killpg(os.getpgid(0), signal.SIGKILL)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BackendRetryFlow()
