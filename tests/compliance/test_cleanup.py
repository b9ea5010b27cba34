"""The suite stops what the extension under test leaves running and reports files it wrote into
the working directory: real processes (a plain child, a daemonised double-fork), a real session."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from mfx.compliance import cleanup

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")

LEAVES_BEHIND = textwrap.dedent(
    """
    import os, subprocess, sys
    from pathlib import Path
    import pytest

    DAEMON = '''
    import os, sys, time
    if os.fork():
        sys.exit(0)
    os.setsid()
    if os.fork():
        sys.exit(0)
    open(sys.argv[1], "w").write(str(os.getpid()))
    time.sleep(300)
    '''

    @pytest.mark.capability("branch")
    def test_extension_leaves_things_behind():
        out = Path(os.environ["LEFTOVER_DIR"])
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        (out / "child.pid").write_text(str(child.pid))
        subprocess.run([sys.executable, "-c", DAEMON, str(out / "daemon.pid")], check=True)
        Path("written-by-extension.dag").write_text("dag")
    """
)


def _project(root: Path, declared: str = "()") -> Path:
    root.mkdir(parents=True)
    (root / "leftcaps.py").write_text(f"CAPABILITIES = frozenset({declared})\n")
    (root / "pyproject.toml").write_text(
        '[tool.mfx.compliance]\nkind = "orchestrator"\nplugin = "fake"\ncapabilities = "leftcaps:CAPABILITIES"\n'
    )
    return root


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_file(path: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"{path} never written")


def test_session_stops_leftover_processes_and_reports_files(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "ext")
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("LEFTOVER_DIR", str(out))
    pytester.makepyfile(test_leave=LEAVES_BEHIND)
    md = tmp_path / "report" / "compliance.md"
    result = pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", f"--mfx-report-md={md}", timeout=120)
    result.assert_outcomes(passed=1)
    child, daemon = int((out / "child.pid").read_text()), int(_wait_file(out / "daemon.pid"))
    try:
        assert not _alive(child), "the plain child was left running"
        assert not _alive(daemon), "the daemonised worker (re-parented to init) was left running"
        text = result.stdout.str()
        assert "left behind by the extension" in text
        assert "stopped 2 process(es)" in text and f"pid {daemon}:" in text and f"pid {child}:" in text
        assert "written-by-extension.dag" in text
        assert "test_leave.py" not in text.split("left behind by the extension", 1)[1], "files present before the session are not leftovers"
        report = json.loads(md.with_suffix(".json").read_text())
        assert any("written-by-extension.dag" in line for line in report["leftovers"])
        assert "## Left behind by the extension" in md.read_text()
        assert (pytester.path / "written-by-extension.dag").exists(), "files are reported, never deleted"
    finally:
        for pid in (child, daemon):
            if _alive(pid):
                os.kill(pid, 9)


def test_clean_session_reports_nothing(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """No leftovers: nothing reported. The same session checks that a test skipped as `not run:`
    (conda without a resolver) is "not run" in the matrix, never passed."""
    project = _project(tmp_path / "ext", declared='{"conda"}')
    pytester.makepyfile(
        test_clean='import pytest\nfrom mfx.compliance.probes import NOT_RUN_PREFIX\n\n'
        '@pytest.mark.capability("branch")\ndef test_x():\n    pass\n\n'
        '@pytest.mark.capability("conda")\ndef test_conda():\n    pytest.skip(f"{NOT_RUN_PREFIX} no conda resolver on PATH")\n'
    )
    md = tmp_path / "r" / "compliance.md"
    result = pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", f"--mfx-report-md={md}", f"--junitxml={pytester.path / 'j.xml'}", timeout=120)
    result.assert_outcomes(passed=1, skipped=1)
    assert "left behind" not in result.stdout.str(), "the suite's own reports (here in the CWD) are not leftovers"
    report = json.loads(md.with_suffix(".json").read_text())
    assert report["leftovers"] == []
    conda = next(r for r in report["capabilities"] if r["capability"] == "conda")
    assert conda["result"] == "not run" and "no conda resolver" in conda["tests"][0]["reason"]


def test_marker_is_restored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(cleanup.MARKER_VAR, "outer")
    snap = cleanup.Snapshot.take()
    assert os.environ[cleanup.MARKER_VAR] == snap.token != "outer"
    found = cleanup.collect(snap)
    snap.release()
    assert os.environ[cleanup.MARKER_VAR] == "outer" and found.lines() == []


def test_process_that_ignores_sigterm_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    monkeypatch.chdir(tmp_path)
    snap = cleanup.Snapshot.take()
    try:
        proc = subprocess.Popen([sys.executable, "-c", "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(300)"], stdout=subprocess.PIPE)
        proc.stdout.readline()
        found = cleanup.collect(snap, grace=0.5)
    finally:
        snap.release()
    proc.wait(timeout=10)
    assert proc.returncode == -9 and proc.pid in found.stopped


def test_flows_run_from_a_private_copy_and_writes_beside_them_are_reported(tmp_path: Path) -> None:
    """metaflow-prefect writes `<flow>_prefect.py` next to the flow file it deploys: the suite deploys
    a private copy of its flows, so the package (or an editable checkout of mfx) stays untouched, and
    what the extension wrote there is reported, then removed with the copy."""
    source = tmp_path / "flows"
    (source / "orchestrator").mkdir(parents=True)
    (source / "orchestrator" / "linear_flow.py").write_text("# a flow\n")
    (source / "orchestrator" / "__pycache__").mkdir()
    copy = cleanup.flows_dir(source)
    assert copy != source and cleanup.flows_dir(source) == copy, "one copy per session"
    assert (copy / "orchestrator" / "linear_flow.py").read_text() == "# a flow\n"
    (copy / "orchestrator" / "linearflow_prefect.py").write_text("generated\n")  # what the extension does
    (copy / "orchestrator" / "__pycache__" / "linear_flow.cpython-311.pyc").parent.mkdir(exist_ok=True)
    (copy / "orchestrator" / "__pycache__" / "linear_flow.cpython-311.pyc").write_bytes(b"")  # Python's, not theirs
    assert cleanup.written_beside_flows(source) == [os.path.join("orchestrator", "linearflow_prefect.py")]
    assert not copy.exists() and sorted(p.name for p in (source / "orchestrator").iterdir()) == ["__pycache__", "linear_flow.py"]
    lines = cleanup.Leftovers(beside_flows=["orchestrator/linearflow_prefect.py"]).lines()
    assert "next to the flow files" in lines[0] and lines[1].strip() == "orchestrator/linearflow_prefect.py"
    assert cleanup.written_beside_flows(source) == [], "reported once"
