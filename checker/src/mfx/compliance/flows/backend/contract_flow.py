"""One run that exercises most of the compute-backend contract (B5-B12, B17, B19, B25).

start records the task's environment; a foreach of 3 with a join carrying @environment vars and a
Config value; `live` prints a token and waits until the token is visible in its own task log in
the datastore while the step is still running (B17) and records what the engine granted (B19).
"""

import os
import time

from metaflow import Config, FlowSpec, current, environment, resources, step

TOKEN = "mfx-token-%s"
LIVE_WAIT = 90


def _granted():
    """What the platform gave this task, as far as it tells (None when it does not say)."""
    cpus = os.environ.get("SLURM_CPUS_PER_TASK") or os.environ.get("MFX_GRANTED_CPUS")
    mem = os.environ.get("SLURM_MEM_PER_NODE") or os.environ.get("MFX_GRANTED_MEMORY_MB")
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "cpus": int(cpus) if cpus else None,
        "memory_mb": int(mem) if mem else None,
        "affinity": affinity,
    }


class BackendContractFlow(FlowSpec):
    cfg = Config("cfg", default_value={"greeting": "hello-config"})

    @step
    def start(self):
        import metaflow

        self.env = {
            "runtime_environment": os.environ.get("METAFLOW_RUNTIME_ENVIRONMENT"),
            "has_sysroot_local": "METAFLOW_DATASTORE_SYSROOT_LOCAL" in os.environ,
            "extracted_root": os.environ.get("METAFLOW_EXTRACTED_ROOT"),
            "cwd": os.getcwd(),
        }
        self.username = current.username
        # the conda platform of the worker this task runs on (B9): @conda/@pypi must resolve for it
        from metaflow.plugins.pypi.utils import conda_platform

        self.conda_platform = conda_platform()
        self.metaflow_file = metaflow.__file__
        self.metaflow_version = metaflow.__version__
        self.greeting = self.cfg.greeting
        print(TOKEN % "start")
        self.items = [1, 2, 3]
        self.next(self.fan, foreach="items")

    @step
    def fan(self):
        self.doubled = self.input * 2
        self.cwd = os.getcwd()
        print(TOKEN % ("fan-%d" % self.input))
        self.next(self.join)

    @environment(vars={"MFX_COMPLIANCE_VAR": "env-ok"})
    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        self.fan_cwds = sorted(i.cwd for i in inputs)
        self.env_var = os.environ.get("MFX_COMPLIANCE_VAR")
        self.greeting = inputs[0].greeting
        self.next(self.live)

    @resources(cpu=2, memory=1500)
    @step
    def live(self):
        self.granted = _granted()
        # every decorator's attributes as the task sees them (after the @resources merge); the
        # suite picks the backend's by name, whatever its attributes are called
        decos = getattr(getattr(self.__class__, current.step_name), "decorators", [])
        self.compute_attrs = {
            d.name: {str(k): str(v) for k, v in (getattr(d, "attributes", None) or {}).items()}
            for d in decos
            if d.name != "resources"
        }
        print(TOKEN % "live")
        self.live_seen_after = self._wait_for_own_log(TOKEN % "live")
        self.next(self.end)

    def _wait_for_own_log(self, token):
        """Seconds until `token` is in this task's stdout log object in the datastore, or None."""
        root = os.environ.get("METAFLOW_DATASTORE_SYSROOT_S3")
        if not root:
            return -1.0  # not an S3 datastore: the check does not apply
        from metaflow import S3

        key = "%s/%s/%s/%s/%d.task_stdout.log" % (
            current.flow_name, current.run_id, current.step_name, current.task_id, current.retry_count
        )
        started = time.time()
        with S3(s3root=root) as s3:
            while time.time() - started < LIVE_WAIT:
                obj = s3.get(key, return_missing=True)
                if obj.exists and token in (obj.text or ""):
                    return time.time() - started
                time.sleep(1)
        return None

    @step
    def end(self):
        print(TOKEN % "end")


if __name__ == "__main__":
    BackendContractFlow()
