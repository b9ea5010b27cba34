"""Task output reaches the launcher while the task still runs, in order (B17).

`start` prints a burst of lines ending with the first token, then waits until the test has seen
that token in the launcher's own output and acknowledged it by writing the object at ``ack_url``;
only then it prints the second token. A first token that reaches the launcher only after the task ended is never
acknowledged: the step gives up after ACK_WAIT seconds and records that.
"""

import time

from metaflow import FlowSpec, Parameter, step

LINE = "mfx-stream-%d"
BURST = 20
ACK_WAIT = 90  # a healthy backend shows the line within seconds; a broken one is judged sooner


class BackendStreamFlow(FlowSpec):
    ack_url = Parameter("ack_url", default="")

    @step
    def start(self):
        # a burst ending with the first token: the lines reach the launcher in one batch, and a
        # reader that takes several lines per read shows only the first of them
        print("\n".join(["%s burst %d" % (LINE % 0, i) for i in range(BURST)] + [LINE % 1]))
        self.ack_after = self._wait_for_ack()
        print("%s %s" % (LINE % 2, "no-ack" if self.ack_after is None else "after-ack"))
        self.next(self.end)

    def _wait_for_ack(self):
        """Seconds until the ack object exists; None if it never appeared; -1.0 without an ack url."""
        if not self.ack_url:
            return -1.0
        from metaflow import S3

        started = time.time()
        with S3() as s3:
            while time.time() - started < ACK_WAIT:
                if s3.info(self.ack_url, return_missing=True).exists:
                    return time.time() - started
                time.sleep(0.5)
        return None

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BackendStreamFlow()
