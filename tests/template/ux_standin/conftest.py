"""STAND-IN for upstream test/ux/conftest.py (see README.md): same options, config file and
parametrization rules, reduced to what the stand-in tests use."""

import os
import uuid

import pytest
from omegaconf import OmegaConf

CONFIG = os.path.join(os.path.dirname(__file__), "ux_test_config.yaml")


def enabled_backends():
    cfg = OmegaConf.load(CONFIG)
    return [b for b in (OmegaConf.to_container(x, resolve=True) for x in cfg.get("backends", [])) if b.get("enabled", True)]


def pytest_addoption(parser):
    # Upstream registers these; the compliance plugin in the same process would clash (pitfall O31).
    parser.addoption("--decospecs", action="append")
    parser.addoption("--scheduler-type")
    parser.addoption("--tag", action="append", default=None)


@pytest.fixture(scope="session")
def test_config():
    return OmegaConf.load(CONFIG)


@pytest.fixture(scope="session")
def tag():
    return [str(uuid.uuid4())[:8]]


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames:
        return
    basic = metafunc.definition.get_closest_marker("basic")
    params, ids = [], []
    for b in enabled_backends():
        modes = (["runner"] if basic else []) + (["deployer"] if b.get("scheduler_type") else [])
        for mode in modes:
            params.append((mode, b))
            ids.append("%s-%s" % (b["name"], mode))
    metafunc.parametrize(["exec_mode", "backend"], params, ids=ids)
