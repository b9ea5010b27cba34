"""Render the template and build a generated repository's environment.

Every test that needs a generated repo goes through :func:`render` and :func:`make_venv`, so the
way a repo is made is the same everywhere (and the same as the README's main job).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Mapping, Sequence

REPO = Path(__file__).resolve().parents[2]
CHECKER = REPO / "checker"


def render(dst: Path, vcs_ref: str = "HEAD", src: Path | None = None, **answers: object) -> Path:
    """``copier copy --defaults --trust`` of this repository (working tree included) into ``dst``."""
    import copier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DirtyLocalWarning: the working tree is what we test
        copier.run_copy(
            str(src or REPO),
            str(dst),
            data=dict(answers),
            defaults=True,
            unsafe=True,
            vcs_ref=vcs_ref,
            quiet=True,
            overwrite=True,
        )
    return dst


_SNAPSHOT: Path | None = None


def template_snapshot() -> Path:
    """A plain (non-git) copy of copier.yml + template/, made once per test session.

    Copier clones a git source for every copy; rendering from a plain directory skips that,
    which matters for the answer matrix (hundreds of renders). Tests that need template
    versions (update tests) use :func:`render` with a git source instead.
    """
    global _SNAPSHOT
    if _SNAPSHOT is None:
        import tempfile

        dst = Path(tempfile.mkdtemp(prefix="mfx-template-")) / "template-src"
        dst.mkdir(parents=True)
        shutil.copy2(REPO / "copier.yml", dst / "copier.yml")
        shutil.copytree(REPO / "template", dst / "template", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _SNAPSHOT = dst
    return _SNAPSHOT


def render_snapshot(dst: Path, **answers: object) -> Path:
    """Render from :func:`template_snapshot` (fast; no version recorded in the answers)."""
    import copier

    copier.run_copy(
        str(template_snapshot()), str(dst), data=dict(answers), defaults=True, unsafe=True, quiet=True, overwrite=True
    )
    return dst


def uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).exists():
        raise RuntimeError("uv is required by the tests (pip install uv)")
    return found


def make_venv(project: Path, extras: Sequence[str] = (), python: str | None = None) -> Path:
    """Create ``project/.venv`` with the generated extension (editable) and mfx installed.

    Returns the venv's ``bin`` directory. Uses uv's shared cache, so repeated installs are fast.
    """
    venv = project / ".venv"
    # Inside a nox session nox exports UV_PYTHON (its own interpreter), which uv prefers over
    # VIRTUAL_ENV: name the target interpreter explicitly or the packages land in nox's venv.
    env = {k: v for k, v in os.environ.items() if k != "UV_PYTHON"}
    subprocess.run([uv(), "venv", "-q", "-p", python or sys.executable, str(venv)], check=True, env=env)
    env["VIRTUAL_ENV"] = str(venv)
    subprocess.run(
        [uv(), "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
         "-e", str(project), "-e", f"{CHECKER}[compliance]", *extras],
        check=True,
        env=env,
        cwd=project,
    )
    if not (venv / "bin" / "mfx").exists():
        raise RuntimeError(f"mfx was not installed into {venv}")
    return venv / "bin"


def run(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run a command, capturing output; the output is attached to the assertion on failure."""
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def own_test_files(root: Path) -> list:
    """The generated tests that are not kind-wide plumbing tests, plus the devstack's own."""
    tests = sorted(p.name for p in (root / "tests").glob("test_*.py"))
    own = [t for t in tests if not t.startswith("test_plumbing_") or t == "test_plumbing_devstack.py"]
    assert own, f"no preset-specific test file in {root / 'tests'}: {tests}"
    return [f"tests/{t}" for t in own]


def run_generated_sessions(dst: Path, scope: str, env: Mapping[str, str] | None = None) -> None:
    """`nox -s lint tests` in a generated repository, as its developer runs it.

    scope "all" runs every generated test; "own" runs the preset's own files (:func:`own_test_files`)
    and checks that the rest still imports and collects.
    """
    env = {"MFX_REQUIREMENT": os.environ["MFX_REQUIREMENT"], "NOX_DEFAULT_VENV_BACKEND": "uv", **(env or {})}
    posargs = [] if scope == "all" else ["--", *own_test_files(dst), "-q"]
    result = run(["nox", "--no-error-on-external-run", "-s", "lint", "tests", *posargs], cwd=dst, env=env, timeout=1200)
    assert result.returncode == 0, f"nox failed in the generated repo:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    if scope == "own":  # the kind-wide tests were not run here: they must still import and collect
        python = dst / ".nox" / "tests" / "bin" / "python"
        collected = run([str(python), "-m", "pytest", "--collect-only", "-q", "tests"], cwd=dst, env=env, timeout=300)
        assert collected.returncode == 0, f"the generated tests do not collect:\n{collected.stdout[-4000:]}\n{collected.stderr[-2000:]}"
