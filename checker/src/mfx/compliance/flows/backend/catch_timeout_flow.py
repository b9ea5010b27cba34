"""@timeout and @catch on the backend (B18, B23).

`timed` sleeps far beyond its @timeout: Metaflow's own alarm must end it (not the platform's hard
limit), and @catch records the timeout; `boom` raises and @catch records the user's error;
`crash` kills its own process, so the runtime runs @catch's fallback attempt, locally (B23).
"""

import os
import signal
import time

from metaflow import FlowSpec, catch, step, timeout


class BackendCatchTimeoutFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.timed)

    @catch(var="timeout_error")
    @timeout(seconds=10)
    @step
    def timed(self):
        self.started_at = time.time()
        time.sleep(240)
        self.next(self.boom)

    @catch(var="boom_error")
    @step
    def boom(self):
        raise ValueError("Intentional error from the compliance suite")
        self.next(self.crash)  # unreachable, but the graph needs it

    @catch(var="crash_error")
    @step
    def crash(self):
        os.kill(os.getpid(), signal.SIGKILL)
        self.next(self.end)  # unreachable, but the graph needs it

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BackendCatchTimeoutFlow()
