"""The conda capability's precondition: without a conda resolver or its channel the test is
"not run" with the reason (never passed)."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest
from mfx.compliance import probes


def _fake_resolver(bin_dir: Path) -> None:
    bin_dir.mkdir()
    exe = bin_dir / "micromamba"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)


def test_no_resolver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "no conda resolver on PATH" in (probes.conda_unreachable() or "")


def test_channel_down_and_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_resolver(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setenv("MFX_CONDA_CHANNEL_URL", f"http://127.0.0.1:{port}/conda-forge")
        assert probes.conda_unreachable() is None
    monkeypatch.setenv("MFX_CONDA_CHANNEL_URL", f"http://127.0.0.1:{port}/conda-forge")
    reason = probes.conda_unreachable(timeout=2)
    assert reason and f"127.0.0.1:{port} is unreachable" in reason

# The matrix side (a `not run:` skip is "not run", never passed) shares a pytester session with
# tests/compliance/test_cleanup.py::test_clean_session_reports_nothing (one session less in CI).
