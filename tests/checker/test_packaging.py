"""The root pyproject.toml (for pre-commit) and checker/pyproject.toml describe the same mfx."""

import tomllib
from support.generate import REPO


def load(path):
    return tomllib.loads((REPO / path).read_text())


def test_root_and_checker_pyprojects_agree():
    root, checker = load("pyproject.toml"), load("checker/pyproject.toml")
    for key in ("name", "dynamic", "requires-python", "dependencies", "optional-dependencies", "scripts", "entry-points"):
        assert root["project"].get(key) == checker["project"].get(key), key
    assert root["tool"]["setuptools"]["packages"]["find"]["where"] == ["checker/src"]
    assert root["build-system"] == checker["build-system"]


def test_pre_commit_hooks_use_the_mfx_entry_point():
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"mfx", "mfx-fix"}
    scripts = load("pyproject.toml")["project"]["scripts"]
    for hook in hooks:
        assert hook["entry"].split()[0] in scripts
        assert hook["language"] == "python"
