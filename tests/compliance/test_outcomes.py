"""Outcomes that prove nothing ("not exercised", "not run: set ...") are their own results in the
matrix, the JSON twin and the JUnit XML, never a pass; backend settings the tests need are read
from [tool.mfx.compliance] (never guessed from one backend's decorator attributes)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from compliance.test_plugin import make_project

pytest_plugins = ["pytester"]

TESTS = textwrap.dedent(
    """
    import pytest
    from mfx.compliance.expect import not_exercised, not_run

    @pytest.mark.capability("branch")
    def test_scenario_did_not_happen(mfx_engine):
        not_exercised("no sibling job was running when the run failed")

    @pytest.mark.capability("foreach")
    def test_setting_missing(mfx_engine):
        not_run("set launch_failure_decospec in [tool.mfx.compliance]")

    @pytest.mark.capability("linear")
    def test_linear_passes(mfx_engine):
        pass

    @pytest.mark.capability("linear")
    def test_linear_vacuous(mfx_engine):
        not_exercised("the datastore is not S3")

    @pytest.mark.capability("switch")
    def test_plain_skip(mfx_engine):
        pytest.skip("does not apply here")
    """
)


def test_not_exercised_and_not_run_are_never_passes(pytester: pytest.Pytester, tmp_path: Path) -> None:
    project = make_project(tmp_path / "ext")
    pytester.makepyfile(test_outcomes_suite=TESTS)
    md, xml = tmp_path / "r" / "compliance.md", tmp_path / "r" / "compliance.xml"
    result = pytester.runpytest_subprocess("--mfx-compliance", f"--mfx-project={project}", f"--mfx-report-md={md}", f"--junitxml={xml}", "-rs", timeout=120)
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(["*not exercised: no sibling job was running when the run failed*"])
    data = json.loads(md.with_suffix(".json").read_text())
    rows = {r["capability"]: r for r in data["capabilities"]}
    assert rows["branch"]["result"] == "not exercised"
    assert rows["branch"]["tests"] == [{"name": "test_scenario_did_not_happen", "outcome": "not exercised", "reason": "not exercised: no sibling job was running when the run failed", "message": ""}]
    assert rows["foreach"]["result"] == "not run" and rows["foreach"]["tests"][0]["outcome"] == "not run"
    assert rows["linear"]["result"] == "partial", "one pass next to a vacuous test is no full pass"
    assert rows["switch"]["result"] == "skipped"
    text = md.read_text()
    assert "| `branch` | required | (required) | **not exercised** |" in text
    assert re.search(r"Required capabilities passed: 0/\d+; not passed: .*branch.*foreach", text), text
    junit = xml.read_text()
    for name, outcome in (("test_scenario_did_not_happen", "not exercised"), ("test_setting_missing", "not run"), ("test_plain_skip", "skipped")):
        case = re.search(rf'<testcase [^>]*name="{name}"[^>]*>(.*?)</testcase>', junit, re.S)
        assert case, junit
        assert f'<property name="mfx_outcome" value="{outcome}"' in case.group(1), case.group(1)
    assert re.search(r'<skipped [^>]*message="not exercised: no sibling', junit)


def test_backend_settings_are_read(tmp_path: Path) -> None:
    from mfx.compliance.config import load

    project = make_project(tmp_path / "ext", kind="backend", declared="()")
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('launch_failure_decospec = "my_backend:partition=nope"\nresource_attributes = { cpu = "cpus" }\n')
    cfg = load(project)
    assert cfg.launch_failure_decospec == "my_backend:partition=nope" and cfg.resource_attributes == {"cpu": "cpus"}
    plain = load(make_project(tmp_path / "plain", kind="backend", declared="()"))
    assert plain.launch_failure_decospec is None and plain.resource_attributes == {}


@pytest.mark.parametrize(
    "line, message",
    [
        ('launch_failure_decospec = ""', "launch_failure_decospec must be a non-empty string"),
        ("launch_failure_decospec = 3", "launch_failure_decospec must be a non-empty string"),
        ('resource_attributes = "cpus"', "resource_attributes must be a table of strings"),
        ("resource_attributes = { cpu = 2 }", "resource_attributes must be a table of strings"),
    ],
)
def test_bad_backend_settings_are_config_errors(tmp_path: Path, line: str, message: str) -> None:
    from mfx.compliance.config import ConfigError, load

    project = make_project(tmp_path / "ext", kind="backend", declared="()")
    with (project / "pyproject.toml").open("a") as fh:
        fh.write(line + "\n")
    with pytest.raises(ConfigError, match=message):
        load(project)



def test_orphan_precondition_needs_a_live_sibling() -> None:
    from mfx.compliance.tests.backend.runs import orphan_precondition

    assert orphan_precondition("alive: heartbeat 1.000 then 7.000; failing at 8.000") is None
    assert "one at a time" in orphan_precondition("ended: heartbeat unchanged at 5.000 for 6 s; failing at 300.000")
    assert "one at a time" in orphan_precondition("never: no heartbeat of the sibling within 180 s; failing at 181.000")
    assert "recorded no witness" in orphan_precondition("")


def test_resource_merge_reads_metaflow_names_or_the_mapping() -> None:
    from mfx.compliance.tests.backend.runs import resource_merge

    requested = {"cpu": 2.0, "memory": 1500.0}
    # our preset: attributes named like @resources'
    assert resource_merge({"cpu": "2", "memory": "4096", "queue": "None"}, {}, requested) == ([], {"cpu": "cpu", "memory": "memory"}, {})
    # not merged: the decorator kept its own smaller value
    _, _, kept = resource_merge({"cpu": "1", "memory": "4096"}, {}, requested)
    assert kept == {"cpu (@resources cpu=2)": "1"}
    # a backend with other names: nothing to check unless mapped
    assert resource_merge({"cpus": "2", "mem_mb": "100", "partition": "x"}, {}, requested) == ([], {}, {})
    _, merged, kept = resource_merge({"cpus": "2", "mem_mb": "100"}, {"cpu": "cpus", "memory": "mem_mb"}, requested)
    assert merged == {"cpu": "cpus", "memory": "mem_mb"} and kept == {"mem_mb (@resources memory=1500)": "100"}
    # a mapping naming an attribute the decorator does not have is the extension's mistake
    assert resource_merge({"cpu": "2"}, {"memory": "mem"}, requested)[0] == ["mem"]
    # unparsable values count as not merged
    assert resource_merge({"cpu": "lots", "memory": "2000"}, {}, requested)[2] == {"cpu (@resources cpu=2)": "lots"}
