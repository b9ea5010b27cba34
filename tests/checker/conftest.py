"""Helpers for the mfx engine tests: run the real CLI in a subprocess or in-process."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 300

#: A file with exactly one MFX101 finding (line 6, column 9), used by the engine tests.
DEPLOYER_BUG = textwrap.dedent(
    '''\
    from metaflow.runner.deployer_impl import DeployerImpl

    class KestraDeployer(DeployerImpl):
        TYPE = "kestra"
        def __init__(self, deployer_kwargs, **kwargs):
            self.deployer_kwargs = deployer_kwargs
            super().__init__(**kwargs)
    '''
)


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


def run_subprocess(args: list[str], cwd: Path, env: dict | None = None) -> CliResult:
    """The installed ``mfx`` entry point's module, in a fresh interpreter."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("MFX_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "mfx.cli", *args], cwd=cwd, capture_output=True, text=True,
        timeout=CLI_TIMEOUT, env=full_env,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def run_inprocess(args: list[str], cwd: Path) -> CliResult:
    from mfx.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    finally:
        os.chdir(old)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A tiny project: one file with one MFX101 finding, one clean file."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "deployer.py").write_text(DEPLOYER_BUG)
    (tmp_path / "pkg" / "clean.py").write_text("x = 1\n")
    return tmp_path
