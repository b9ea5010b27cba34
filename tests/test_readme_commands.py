"""The README's two set-up commands stay true: the main job generates a working extension, and
CI (.ci/run) runs exactly the README's test command."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
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
    """.ci/run runs the README's test command as written (one of its lines is that command)."""
    test_cmd = bash_blocks(README)[1]
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert test_cmd in ci_lines, f".ci/run does not run the README's test command:\n{test_cmd}"


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


# Environment a fresh machine's shell may need to reach PyPI (proxies, a mirror, CA bundles).
NETWORK_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "PIP_INDEX_URL",
               "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")


def externally_managed_python(root: Path) -> Path:
    """A system-like Python in `root` that refuses `pip install` outside a virtual environment: the
    running base interpreter's binary copied to root/bin (python3, no `python`, as on Debian), its
    libraries and stdlib linked entry by entry, and a PEP 668 EXTERNALLY-MANAGED marker in the stdlib
    directory. No network, nothing of the base interpreter is modified. Returns root/bin."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    base = Path(sys.base_prefix)
    stdlib = Path(sysconfig.get_path("stdlib"))
    if stdlib != base / "lib" / version:
        pytest.skip(f"the base interpreter's stdlib {stdlib} is not in the <prefix>/lib/{version} layout this copy needs")
    binary = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    (root / "bin").mkdir(parents=True)
    shutil.copy2(binary, root / "bin" / version)
    (root / "bin" / "python3").symlink_to(version)
    (root / "lib" / version).mkdir(parents=True)
    for entry in (base / "lib").iterdir():
        if entry.name != version:
            (root / "lib" / entry.name).symlink_to(entry)
    for entry in stdlib.iterdir():
        if entry.name != "EXTERNALLY-MANAGED":
            (root / "lib" / version / entry.name).symlink_to(entry)
    (root / "lib" / version / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=This Python is managed by the system (a test stand-in for Debian's): "
        "use a virtual environment.\n"
    )
    return root / "bin"


def fresh_machine_env(python_bin: Path, home: Path) -> dict:
    """A new HOME, and a PATH with the system-like Python and git/bash only (no venv of the tests)."""
    home.mkdir()
    tools = sorted({str(Path(shutil.which(name) or f"/usr/bin/{name}").parent) for name in ("git", "bash")})
    env = {name: os.environ[name] for name in NETWORK_ENV if name in os.environ}
    env.update(HOME=str(home), PATH=os.pathsep.join([str(python_bin), *tools]), LANG="C.UTF-8")
    return env


def newest_release() -> str:
    from packaging.version import Version

    text = (REPO / "releases.toml").read_text()
    return max(re.findall(r'^"([^"]+)"\s*=', text, flags=re.M), key=Version)


@pytest.mark.slow  # ~1-3 minutes: installs copier, nox and uv from PyPI into a new venv
def test_setup_commands_work_on_an_externally_managed_python(tmp_path):
    """The README's two set-up commands, extracted from the README and run as written by bash in a
    fresh clone (main only, no tags), with a new HOME and a `python3` that refuses `pip install`
    outside a virtual environment (PEP 668, as on Debian and Ubuntu). The main job installs copier
    from PyPI and generates the extension from the newest recorded release; the test command's
    set-up installs nox and uv (its `nox -s tests` is this very suite: `nox --list` stands in)."""
    if subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=REPO, capture_output=True,
                      text=True).stdout.strip() == "true":
        pytest.skip("this checkout is shallow: the recorded release commits are not here (git fetch --unshallow)")
    python_bin = externally_managed_python(tmp_path / "system-python")
    env = fresh_machine_env(python_bin, tmp_path / "home")

    # The premise: this python3 is a system Python whose pip refuses to install.
    probe = subprocess.run(["python3", "-c", "import sys, sysconfig; print(sys.prefix); print(sysconfig.get_path('stdlib'))"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and probe.stdout.split() == [str(tmp_path / "system-python"),
                                                             str(tmp_path / "system-python" / "lib" / Path(sysconfig.get_path("stdlib")).name)], probe
    refused = subprocess.run(["python3", "-m", "pip", "install", "--no-index", "copier==9.19.1"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr, refused.stderr

    work = tmp_path / "work"
    clone = work / "metaflow-extension-template"
    work.mkdir()
    subprocess.run(["git", "clone", "-q", "--single-branch", "--no-tags", str(REPO), str(clone)], check=True, timeout=300)
    assert subprocess.run(["git", "tag"], cwd=clone, capture_output=True, text=True).stdout == "", "the clone has tags"

    main_job, test_cmd = bash_blocks(README)[:2]
    result = subprocess.run(["bash", "-c", main_job], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    answers = yaml.safe_load((work / "my-extension" / ".copier-answers.yml").read_text())
    assert answers["_commit"] == newest_release(), "the copy did not record the newest release"
    assert (answers["kind"], answers["preset"]) == ("orchestrator", "temporal")
    assert (work / "my-extension" / "pyproject.toml").is_file()

    parts = [part.strip() for part in test_cmd.split("&&")]
    assert parts[-1] == "nox -s tests", test_cmd
    setup = " && ".join([*parts[:-1], "nox --list"])
    listed = subprocess.run(["bash", "-c", setup], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert listed.returncode == 0, f"{listed.stdout[-3000:]}\n{listed.stderr[-5000:]}"
    assert re.search(r"^\* tests\b", listed.stdout, flags=re.M), listed.stdout
    assert (clone / ".venv" / "bin" / "uv").exists(), "the test command did not install uv"
