"""The README's two set-up commands stay true: the main job generates a working extension, and
CI (.ci/run) runs exactly the README's test command."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from support.generate import REPO

README = (REPO / "README.md").read_text()


def bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_has_the_two_setup_commands_first():
    blocks = bash_blocks(README)
    assert len(blocks) >= 2, "README must show the main-job and test commands as bash blocks"
    main_job, tests = blocks[0], blocks[1]
    assert "copier copy" in main_job and "--defaults" in main_job
    assert "nox -s tests" in tests


def test_ci_runs_the_readme_test_command():
    test_cmd = bash_blocks(README)[1]
    ci = (REPO / ".ci" / "run").read_text()
    for part in (p.strip() for p in test_cmd.split("&&")):
        words = shlex.split(part)
        if words[:3] == ["python3", "-m", "pip"]:
            # Same packages installed (CI adds quiet flags only).
            for pkg in words[4:]:
                assert pkg in ci.replace('"', ""), f"CI does not install {pkg}"
        else:
            assert part in ci, f"CI does not run `{part}`"


def test_main_job_command_generates_an_extension(tmp_path):
    """Run the copier part of the README's main job as written, from this checkout."""
    main_job = bash_blocks(README)[0]
    copier_part = next(p.strip() for p in main_job.split("&&") if p.strip().startswith("copier copy"))
    words = shlex.split(copier_part.replace('"$PWD"', str(REPO)).replace("../my-extension", str(tmp_path / "my-extension")))
    words[0] = str(Path(sys.executable).with_name("copier"))
    result = subprocess.run([*words, "--vcs-ref", "HEAD", "--quiet"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    answers = yaml.safe_load((tmp_path / "my-extension" / ".copier-answers.yml").read_text())
    assert (answers["kind"], answers["preset"]) == ("orchestrator", "temporal")
    assert (tmp_path / "my-extension" / "pyproject.toml").is_file()
