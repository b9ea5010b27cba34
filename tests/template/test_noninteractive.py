"""Non-interactive generation works: `--defaults`, `--data k=v` and `--data-file answers.yml`,
through copier's own CLI and through `mfx new`, and equal answers give equal repositories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from support.generate import REPO, template_snapshot

COPIER = str(Path(sys.executable).with_name("copier"))
MFX = str(Path(sys.executable).with_name("mfx"))
ANSWERS = {"kind": "backend", "preset": "blank", "engine_name": "acme-hpc", "license": "MIT", "python_min": "3.11", "ci": False}


def tree(root: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def generate(tool: str, dest: Path, extra: List[str]) -> Dict[str, bytes]:
    if tool == "copier":
        cmd = [COPIER, "copy", "--trust", "--quiet", *extra, str(template_snapshot()), str(dest)]
    else:
        cmd = [MFX, "new", str(dest), "--template", str(template_snapshot()), "-q", *extra]
    # No stdin: a question left unanswered would have to prompt, and must not hang the test.
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{cmd}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr
    return tree(dest)


def data_args() -> List[str]:
    return [a for k, v in ANSWERS.items() for a in ("--data", f"{k}={str(v).lower() if isinstance(v, bool) else v}")]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Dict[str, Dict[str, bytes]]:
    base = tmp_path_factory.mktemp("noninteractive")
    answers_file = base / "answers.yml"
    answers_file.write_text(yaml.safe_dump(ANSWERS))
    out = {}
    for tool in ("copier", "mfx"):
        out[f"{tool}-defaults"] = generate(tool, base / f"{tool}-defaults", ["--defaults"])
        out[f"{tool}-data"] = generate(tool, base / f"{tool}-data", ["--defaults", *data_args()])
        out[f"{tool}-data-file"] = generate(tool, base / f"{tool}-data-file", ["--defaults", "--data-file", str(answers_file)])
    return out


def recorded(files: Dict[str, bytes]) -> dict:
    return yaml.safe_load(files[".copier-answers.yml"])


@pytest.mark.parametrize("tool", ["copier", "mfx"])
def test_defaults(results, tool):
    answers = recorded(results[f"{tool}-defaults"])
    assert (answers["kind"], answers["preset"], answers["engine_name"]) == ("orchestrator", "temporal", "temporal")


@pytest.mark.parametrize("tool", ["copier", "mfx"])
@pytest.mark.parametrize("how", ["data", "data-file"])
def test_answers_are_used(results, tool, how):
    answers = recorded(results[f"{tool}-{how}"])
    for key, value in ANSWERS.items():
        assert answers[key] == value, key
    files = results[f"{tool}-{how}"]
    assert not any(name.startswith(".github") for name in files), "ci=false still rendered workflows"
    assert 'license = "MIT"' in files["pyproject.toml"].decode()


def test_equal_answers_give_equal_repositories(results):
    reference = results["copier-data"]
    for name in ("copier-data-file", "mfx-data", "mfx-data-file"):
        other = results[name]
        assert sorted(other) == sorted(reference), name
        differing = [f for f in reference if reference[f] != other[f]]
        assert not differing, f"{name} differs from copier --data in {differing}"
    assert results["mfx-defaults"] == results["copier-defaults"]


def test_mfx_new_finds_the_template_from_inside_the_checkout(tmp_path):
    """No --template: the nearest directory above the cwd holding this template's copier.yml;
    --vcs-ref reaches copier (the git source records the commit)."""
    dest = tmp_path / "found"
    result = subprocess.run(
        [MFX, "new", str(dest), "--defaults", "--vcs-ref", "HEAD", "-q", "--data", "engine_name=acme-flow"],
        cwd=REPO / "docs", capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert Path(answers["_src_path"]).resolve() == REPO.resolve()
    assert answers["_commit"] and answers["engine_name"] == "acme-flow"
