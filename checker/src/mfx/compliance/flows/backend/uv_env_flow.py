"""`--environment=uv` on the backend (B8, B11, B24).

Run from a directory holding a pyproject.toml + uv.lock that pins a package version the launcher
does not have. Each task records which interpreter it runs and which version of the pinned package
it imports: inside the environment Metaflow's uv bootstrap built in the job's working dir, both
differ from the launcher's.
"""

import os
import sys

from metaflow import FlowSpec, step


def _probe():
    try:
        import six

        version = six.__version__
    except ImportError:
        version = None
    return {
        "prefix": sys.prefix,
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "pinned_version": version,
    }


class BackendUvEnvFlow(FlowSpec):
    @step
    def start(self):
        self.probe = _probe()
        self.value = 21
        self.next(self.end)

    @step
    def end(self):
        self.end_probe = _probe()
        self.doubled = self.value * 2


if __name__ == "__main__":
    BackendUvEnvFlow()
