"""Fixtures of the backend tests: one runner for the whole session, in a private working dir.

Local metadata lands in ``<workdir>/.metaflow`` (the Runner's and the client's CWD), never in
the extension repository.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from mfx.compliance.expect import fail
from mfx.compliance.tests.backend.runs import BackendRuns
from mfx.compliance.tests.backend.shared_runs import SHARED, needed


@pytest.fixture(scope="session")
def bk(mfx_engine, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[BackendRuns]:
    if mfx_engine.config.kind != "backend":
        pytest.skip("not a backend extension")
    workdir = tmp_path_factory.mktemp("backend-runs")
    previous = os.getcwd()
    os.chdir(workdir)
    from metaflow import metaflow_config, namespace

    endpoint = os.environ.get("METAFLOW_S3_ENDPOINT_URL")
    if endpoint and metaflow_config.S3_ENDPOINT_URL != endpoint:
        raise fail("B11", "metaflow was imported before the devstack environment was loaded (S3 endpoint %r, expected %r)"
                   % (metaflow_config.S3_ENDPOINT_URL, endpoint), fix="do not import metaflow at module level in conftest/plugins")
    namespace(None)
    runs = BackendRuns(mfx_engine, workdir)
    selected = {Path(str(item.fspath)).stem for item in request.session.items}
    for flow in needed(selected):
        runs.start_shared(flow, **SHARED[flow])
    try:
        yield runs
    finally:
        runs.close()
        os.chdir(previous)
