"""The compliance plugin itself, run by real pytest sessions (pytester) on a small extension project.

The project is a real directory with ``[tool.mfx.compliance]`` and a capabilities module; the
devstack is a small script that follows the up/down protocol, so the session fixture's start,
export and guaranteed stop are exercised without an engine (the Temporal end-to-end test covers
the real devstack).
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DEVSTACK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    action, state = sys.argv[1], Path(sys.argv[3])
    log = Path(__file__).with_name("calls.log")
    with log.open("a") as fh:
        fh.write(action + "\\n")
    if action == "up":
        import os
        Path(__file__).with_name("user.log").write_text(os.environ.get("METAFLOW_USER", "(none)"))
        if Path(__file__).with_name("broken").exists():
            print("engine binary not found: install it")
            sys.exit(3)
        (state / "env.json").write_text(json.dumps({"MFX_TEST_ENGINE_ADDRESS": "127.0.0.1:7233"}))
    """
)


def make_project(root: Path, declared: str = '{"switch"}', devstack: bool = True, kind: str = "orchestrator") -> Path:
    """A minimal extension repository: pyproject table + capabilities module (+ devstack script)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "fakeext_caps.py").write_text(f"CAPABILITIES = frozenset({declared})\n")
    lines = [
        "[tool.mfx.compliance]",
        f'kind = "{kind}"',
        'plugin = "fake-engine"',
        'capabilities = "fakeext_caps:CAPABILITIES"',
        'engine_address_env = "MFX_TEST_ENGINE_ADDRESS"',
    ]
    if devstack:
        (root / "devstack.py").write_text(DEVSTACK)
        lines.append('devstack = ["python", "devstack.py"]')
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return root


TESTS = textwrap.dedent(
    """
    import os
    import pytest

    @pytest.mark.capability("branch")
    def test_required_runs(mfx_engine):
        assert os.environ["MFX_TEST_ENGINE_ADDRESS"] == "127.0.0.1:7233"
        assert mfx_engine.env == {"MFX_TEST_ENGINE_ADDRESS": "127.0.0.1:7233"}

    @pytest.mark.capability("switch")
    def test_declared_optional_runs():
        pass

    @pytest.mark.capability("resume")
    def test_undeclared_optional_skips():
        raise AssertionError("must not run")

    @pytest.mark.capability("foreach")
    def test_required_fails():
        assert 1 == 2, "[O18 input paths] boom"

    def test_unmarked():
        pass
    """
)


def _run(pytester: pytest.Pytester, project: Path, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=TESTS)
    return pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", *args, timeout=120)


def test_inactive_without_flag_skips_marked_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=TESTS)
    result = pytester.runpytest_subprocess("-rs", timeout=120)
    # Unmarked tests run as usual; marked ones skip with the reason (no engine, no config needed).
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(["*mfx compliance suite inactive*"])


def test_active_required_optional_and_report(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext")
    md = tmp_path / "report" / "compliance.md"
    result = _run(pytester, project, f"--mfx-report-md={md}", "-rs", f"--junitxml={tmp_path / 'report' / 'c.xml'}")
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*optional capability resume not declared in fakeext_caps:CAPABILITIES*"])
    data = json.loads(md.with_suffix(".json").read_text())
    by_id = {row["capability"]: row for row in data["capabilities"]}
    assert by_id["branch"]["result"] == "passed"
    assert by_id["foreach"]["result"] == "FAILED"
    # the JSON twin keeps the failure's message, diagnosis headline first (docs/third-party-results.md reads it)
    assert by_id["foreach"]["tests"][0]["message"].startswith("[O18 input paths] boom")
    assert by_id["branch"]["tests"][0]["message"] == ""
    assert by_id["switch"]["result"] == "passed" and by_id["switch"]["declared"] is True
    assert by_id["resume"]["result"] == "skipped" and by_id["resume"]["declared"] is False
    assert "not declared" in by_id["resume"]["tests"][0]["reason"]
    assert by_id["linear"]["result"] == "no test"
    text = md.read_text()
    assert "| `foreach` | required | (required) | **FAILED** |" in text
    assert "Required capabilities passed: 1/" in text
    assert (tmp_path / "report" / "c.xml").is_file()
    # The devstack was started once and stopped once.
    assert (project / "calls.log").read_text().split() == ["up", "down"]


def test_deselected_tests_are_not_in_the_matrix(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext")
    md = tmp_path / "compliance.md"
    result = _run(pytester, project, f"--mfx-report-md={md}", "-k", "test_declared_optional_runs")
    result.assert_outcomes(passed=1)
    rows = {r["capability"]: r for r in json.loads(md.with_suffix(".json").read_text())["capabilities"]}
    assert rows["switch"]["result"] == "passed"
    assert rows["branch"]["result"] == "no test"
    # No test needed the engine: the devstack was never started.
    assert not (project / "calls.log").exists()


def test_devstack_failure_is_clear_and_still_stopped(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext")
    (project / "broken").write_text("")
    result = _run(pytester, project, "-k", "test_required_runs")
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, "a suite that could not run must not pass"
    result.stdout.fnmatch_lines(["*the devstack did not start*", "*exited 3*", "*engine binary not found: install it*"])
    assert "Traceback" not in result.stdout.str()
    assert (project / "calls.log").read_text().split() == ["up", "down"]


ENGINE_TESTS = "\n".join(
    f"@pytest.mark.capability({cid!r})\ndef test_needs_engine_{n}(mfx_engine):\n    pass\n" for n, cid in enumerate(["branch", "foreach", "linear", "switch"] * 3)
)


def test_devstack_failure_is_said_once_and_capabilities_are_not_run(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """Twelve tests need the engine: one start attempt, the error once, every capability "not run"."""
    project = make_project(tmp_path / "ext")
    (project / "broken").write_text("")
    pytester.makepyfile(test_engine_bound="import pytest\n\n" + ENGINE_TESTS + "\ndef test_no_engine():\n    pass\n")
    md, xml = tmp_path / "report" / "compliance.md", tmp_path / "report" / "compliance.xml"
    result = pytester.runpytest_subprocess(
        "--mfx-compliance", f"--mfx-project={project}", f"--mfx-report-md={md}", f"--junitxml={xml}", "-rfEs", timeout=120
    )
    result.assert_outcomes(passed=1, skipped=12)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert out.count("engine binary not found: install it") == 1, out
    assert out.count("the devstack did not start") == 2, out  # the summary heading + one folded skip line
    assert (project / "calls.log").read_text().split() == ["up", "down"], "one start attempt, one stop"
    data = json.loads(md.with_suffix(".json").read_text())
    rows = {r["capability"]: r for r in data["capabilities"]}
    for cid in ("branch", "foreach", "linear", "switch"):
        assert rows[cid]["result"] == "not run", rows[cid]
    assert "engine binary not found" in data["problem"]
    text = md.read_text()
    assert "| `branch` | required | (required) | **not run** |" in text and "**FAILED**" not in text
    assert text.count("engine binary not found: install it") == 1, text
    junit = xml.read_text()
    assert junit.count("<skipped") == 12
    assert len(re.findall(r'<skipped [^>]*message="not run: the devstack did not start', junit)) == 12, junit
    assert "<failure" not in junit and "<error" not in junit and "engine binary not found" not in junit


def test_reuses_running_devstack_from_env_file(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "ext")
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"MFX_TEST_ENGINE_ADDRESS": "127.0.0.1:7233"}))
    monkeypatch.setenv("MFX_DEVSTACK_ENV", str(env_file))
    result = _run(pytester, project, "-k", "test_required_runs")
    result.assert_outcomes(passed=1)
    assert not (project / "calls.log").exists()


@pytest.mark.parametrize(
    "pyproject, message",
    [
        ("[tool.other]\nx = 1\n", "has no [tool.mfx.compliance] table"),
        ('[tool.mfx.compliance]\nkind = "robot"\nplugin = "x"\ncapabilities = "m:C"\n', "kind must be one of"),
        ('[tool.mfx.compliance]\nkind = "orchestrator"\nplugin = "x"\ncapabilities = "no_such_mod_xyz:C"\n', "cannot import no_such_mod_xyz"),
        ('[tool.mfx.compliance]\nkind = "orchestrator"\nplugin = "x"\ncapabilities = "nocolon"\n', "must look like"),
        ('[tool.mfx.compliance]\nkind = "orchestrator"\nplugin = "x"\ncapabilities = "m:C"\nno_worker_env = "Q"\n', "no_worker_env must be a table of strings"),
        ('[tool.mfx.compliance]\nkind = "orchestrator"\nplugin = "x"\ncapabilities = "m:C"\nno_worker_env = { Q = 1 }\n', "no_worker_env must be a table of strings"),
    ],
)
def test_bad_config_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path, pyproject: str, message: str) -> None:
    project = tmp_path / "ext"
    project.mkdir()
    (project / "pyproject.toml").write_text(pyproject)
    result = _run(pytester, project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_unknown_declared_capability_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext", declared='{"switch", "swich"}')
    result = _run(pytester, project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown optional capabilities ['swich']" in result.stderr.str()


def test_unknown_marker_id_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext")
    pytester.makepyfile(test_typo='import pytest\n\n@pytest.mark.capability("forech")\ndef test_x():\n    pass\n')
    result = pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", timeout=120)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown capability 'forech'" in result.stderr.str()


def test_other_kind_capability_skips(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext", declared="()", kind="backend")
    pytester.makepyfile(test_kind='import pytest\n\n@pytest.mark.capability("trigger-async")\ndef test_x():\n    pass\n')
    result = pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", "-rs", timeout=120)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*trigger-async is not a backend capability*"])


def test_python_in_devstack_command_is_this_interpreter() -> None:
    from mfx.compliance.devstack import _command

    assert _command(["python", "devstack/run.py"]) == [sys.executable, "devstack/run.py"]
    assert _command(["./run.sh"]) == ["./run.sh"]


def test_no_worker_env_is_read(tmp_path: Path) -> None:
    from mfx.compliance.config import load

    project = make_project(tmp_path / "ext")
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('no_worker_env = { MY_QUEUE = "mfx-nobody-{unique}" }\n')
    assert load(project).no_worker_env == {"MY_QUEUE": "mfx-nobody-{unique}"}
    assert load(make_project(tmp_path / "plain")).no_worker_env == {}


def test_devstack_workers_get_the_default_user(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root without a user name (CI containers), the suite's default user must reach the devstack
    too: its workers launch the tasks, and Metaflow's init fails with "Unknown user" without one
    (seen with metaflow-prefect's process worker: every run failed before its first step)."""
    for var in ("METAFLOW_USER", "USERNAME", "SUDO_USER", "LOGNAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("USER", "root")
    project = make_project(tmp_path / "ext")
    _run(pytester, project, "-k", "required_runs")
    assert (project / "user.log").read_text() == "mfx-compliance"
