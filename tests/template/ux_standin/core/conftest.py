"""STAND-IN for upstream test/ux/core/conftest.py (see README.md): like upstream it points Metaflow
at a devtools profile with setdefault, so a session that does not set METAFLOW_HOME and
METAFLOW_PROFILE fails at `import metaflow` ("Unable to locate METAFLOW_PROFILE 'local'")."""

import os


def pytest_configure(config):
    here = os.path.dirname(__file__)
    os.environ.setdefault("METAFLOW_HOME", os.path.normpath(os.path.join(here, "..", "..", "..", "devtools", ".devtools")))
    os.environ.setdefault("METAFLOW_PROFILE", "local")
