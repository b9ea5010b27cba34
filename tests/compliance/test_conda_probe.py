"""The conda capability's precondition: without a conda resolver or its channel the test is
"not run" with the reason (never passed), and the matrix says so."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import pytest
from mfx.compliance import probes

pytest_plugins = ["pytester"]


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


def test_not_run_skip_is_not_run_in_the_matrix(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = tmp_path / "ext"
    project.mkdir()
    (project / "condacaps.py").write_text('CAPABILITIES = frozenset({"conda"})\n')
    (project / "pyproject.toml").write_text('[tool.mfx.compliance]\nkind = "orchestrator"\nplugin = "f"\ncapabilities = "condacaps:CAPABILITIES"\n')
    pytester.makepyfile(
        test_c='import pytest\nfrom mfx.compliance.probes import NOT_RUN_PREFIX\n\n'
        '@pytest.mark.capability("conda")\ndef test_conda():\n    pytest.skip(f"{NOT_RUN_PREFIX} no conda resolver on PATH")\n'
    )
    md = tmp_path / "compliance.md"
    result = pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", f"--mfx-report-md={md}", timeout=120)
    result.assert_outcomes(skipped=1)
    row = next(r for r in json.loads(md.with_suffix(".json").read_text())["capabilities"] if r["capability"] == "conda")
    assert row["result"] == "not run" and "no conda resolver" in row["tests"][0]["reason"]
