"""O22: ``status`` computed from the Metaflow Run only (issue 11, section 3)."""

from . import bad, good

_HEAD = "from metaflow.runner.deployer import TriggeredRun\nfrom metaflow import Run, namespace\n"

CASES = [
    bad(
        "O22", "MFX112", "finished / successful on self.run",
        {"orch/deployer.py": _HEAD + '''
class EngineTriggeredRun(TriggeredRun):
    @property
    def status(self):  # <-
        if self.run is None:
            return "PENDING"
        if not self.run.finished:
            return "RUNNING"
        return "SUCCEEDED" if self.run.successful else "FAILED"
'''},
    ),
    bad(
        "O22", "MFX112", "through a helper that looks the run up by pathspec",
        {"orch/triggered.py": _HEAD + '''
class EngineTriggeredRun(TriggeredRun):
    def _mf_run(self):
        namespace(None)
        try:
            return Run(self.pathspec)
        except Exception:
            return None

    @property
    def status(self):  # <-
        r = self._mf_run()
        if r is None:
            return "PENDING"
        return ("SUCCEEDED" if r.successful else "FAILED") if r.finished_at else "RUNNING"
'''},
    ),
    bad(
        "O22", "MFX112", "getattr with defaults and a dict lookup",
        {"orch/deployer.py": _HEAD + '''
STATES = {(True, True): "SUCCEEDED", (True, False): "FAILED"}

class EngineTriggeredRun(TriggeredRun):
    @property
    def status(self):  # <-
        run = self.run
        key = (getattr(run, "finished", False), getattr(run, "successful", False))
        return STATES.get(key, "RUNNING")
'''},
    ),
    bad(
        "O22", "MFX112", "status via an intermediate property",
        {"orch/deployer.py": _HEAD + '''
class EngineTriggeredRun(TriggeredRun):
    @property
    def _done(self):
        return self.run is not None and self.run.finished

    @property
    def status(self):  # <-
        if not self._done:
            return "RUNNING"
        return "SUCCEEDED" if self.run.successful else "FAILED"
'''},
    ),
    good(
        "O22", "MFX112", "scheduler first, Run as a refinement",
        {"orch/deployer.py": _HEAD + '''
class EngineTriggeredRun(TriggeredRun):
    @property
    def status(self):
        desc = self.deployer._client.describe_execution(self.metadata_for_flow["execution_id"])
        if desc.state in ("FAILED", "ABORTED", "TIMED_OUT"):
            return desc.state
        if self.run is not None and self.run.finished:
            return "SUCCEEDED" if self.run.successful else "FAILED"
        return "RUNNING"
'''},
    ),
    good(
        "O22", "MFX112", "scheduler asked through a helper method, via subprocess",
        {"orch/deployer.py": _HEAD + '''
import json, subprocess

class EngineTriggeredRun(TriggeredRun):
    def _engine(self):
        out = subprocess.check_output(["engine", "get", self.name, "-o", "json"])
        return json.loads(out)["phase"]

    @property
    def status(self):
        phase = self._engine()
        if phase == "Running" and self.run and self.run.finished:
            return "SUCCEEDED" if self.run.successful else "FAILED"
        return {"Failed": "FAILED", "Succeeded": "SUCCEEDED"}.get(phase, "RUNNING")
'''},
    ),
    good(
        "O22", "MFX112", "a class that is not a TriggeredRun",
        {"orch/report.py": _HEAD + '''
class RunSummary:
    @property
    def status(self):
        return "SUCCEEDED" if self.run.finished and self.run.successful else "RUNNING"
'''},
    ),
    good(
        "O22", "MFX112", "status from the scheduler; `finished` is a scheduler field",
        {"orch/deployer.py": _HEAD + '''
class EngineTriggeredRun(TriggeredRun):
    @property
    def status(self):
        job = self.deployer.api.jobs.get(self.job_id)
        if job.finished:
            return "SUCCEEDED" if job.exit_code == 0 else "FAILED"
        return "RUNNING"
'''},
    ),
]
