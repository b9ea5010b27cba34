"""STAND-IN for upstream test/ux/core tests (see ../README.md): what `nox -s ux` must provide."""

import os
import time

import pytest

FLOWS = os.path.join(os.path.dirname(__file__), "flows")


def test_config_names_one_backend_with_a_scheduler(test_config):
    backends = [b for b in test_config.backends if b.enabled]
    assert len(backends) == 1, list(test_config.backends)
    assert backends[0].scheduler_type, "the backend has no scheduler_type: deployer-mode tests would not run"
    assert backends[0].name != "argo-kubernetes", "ux_test_config.yaml was not replaced"
    assert isinstance(dict(backends[0].deploy_args), dict)


def test_environment_has_home_profile_and_a_user():
    from metaflow.util import get_username

    home, profile = os.environ["METAFLOW_HOME"], os.environ["METAFLOW_PROFILE"]
    assert os.path.isfile(os.path.join(home, "config_%s.json" % profile)), (home, profile)
    assert os.environ["USER"] not in ("", "root")
    assert get_username() not in (None, "root")


@pytest.mark.scheduler_only  # deployer mode only (upstream's basic tests also run in runner mode)
def test_hello_deployed(exec_mode, backend, tag):
    from metaflow import Deployer, Runner

    flow = os.path.join(FLOWS, "hello_standin.py")
    tags = tag + ["test_hello_standin_%s" % exec_mode]
    if exec_mode == "runner":
        with Runner(flow, pylint=False).run(tags=tags) as running:
            run = running.run
    else:
        deployer = getattr(Deployer(flow_file=flow, pylint=False), backend["scheduler_type"].replace("-", "_"))()
        deployed = deployer.create(**{"tags": tags, **(backend.get("deploy_args") or {})})  # as upstream
        triggered = deployed.trigger()
        deadline = time.time() + 180
        while (triggered.run is None or not triggered.run.finished) and time.time() < deadline:
            time.sleep(2)
        run = triggered.run
        assert run is not None and run.finished, "the deployed run did not finish in 180 s"
    assert run.successful, run
    assert run["start"].task.data.message == "hello from the stand-in"


@pytest.mark.conda
def test_conda_is_deselected():
    pytest.fail("stand-in: a @conda test ran although conda is unreachable (expected -m 'not conda')")
