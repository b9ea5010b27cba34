"""Fixtures of the backend tests: one runner for the whole session, in a private working dir.

Local metadata lands in ``<workdir>/.metaflow`` (the Runner's and the client's CWD), never in
the extension repository. The runs the selected tests declare (``@pytest.mark.mfx_run``, see
:mod:`mfx.compliance.runspec`) start in the background as soon as the session's runner exists.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from mfx.compliance.expect import fail
from mfx.compliance.plugin import planned_runs
from mfx.compliance.tests.backend.runs import BackendRuns


@pytest.fixture(scope="session")
def bk(mfx_engine, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[BackendRuns]:
    if mfx_engine.config.kind != "backend":
        pytest.skip("not a backend extension")
    workdir = tmp_path_factory.mktemp("backend-runs")
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        from metaflow import metaflow_config, namespace
        from metaflow.plugins import STEP_DECORATORS

        list(STEP_DECORATORS)  # resolves every step decorator, the extension's included
    except Exception as ex:  # noqa: BLE001 - the extension breaks `import metaflow` for every flow
        os.chdir(previous)
        cause = "; caused by %s: %s" % (type(ex.__cause__).__name__, ex.__cause__) if ex.__cause__ else ""
        raise fail("B21,B2", "importing metaflow's plugins fails with the extension installed: %s: %s%s" % (type(ex).__name__, ex, cause),
                   fix="keep the decorator module's top-level imports to the standard library and metaflow; import SDKs "
                   "inside the hooks that need them") from None

    endpoint = os.environ.get("METAFLOW_S3_ENDPOINT_URL")
    if endpoint and metaflow_config.S3_ENDPOINT_URL != endpoint:
        raise fail("B11", "metaflow was imported before the devstack environment was loaded (S3 endpoint %r, expected %r)"
                   % (metaflow_config.S3_ENDPOINT_URL, endpoint), fix="do not import metaflow at module level in conftest/plugins")
    namespace(None)
    runs = BackendRuns(mfx_engine, workdir)
    runs.prefetch(planned_runs(request.config))  # the runs the selected tests declare (@pytest.mark.mfx_run)
    try:
        yield runs
    finally:
        runs.close()
        os.chdir(previous)
