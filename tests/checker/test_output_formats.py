"""Every output format on the same findings: json against our schema, SARIF against the
official SARIF 2.1.0 schema, github annotations, junit XML, full snippets."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, run_inprocess, run_subprocess

SCHEMA = REPO / "docs" / "lint" / "json-output.schema.json"


@pytest.fixture
def findings_project(project: Path) -> Path:
    """Add a fixable finding from a rule's own example, and a syntax error."""
    from mfx.engine.runner import all_rules
    from mfx.testing import as_files

    fixable = [(r, ex) for r in all_rules() for ex in r.INVALID if r.fix is not None and isinstance(ex.source, str)]
    if fixable:
        rule, example = fixable[0]
        for name, text in as_files(example.source).items():
            (project / "fixable").mkdir(exist_ok=True)
            (project / "fixable" / name).write_text(text)
    (project / "pkg" / "broken.py").write_text("def f(:\n    pass\n")
    return project


def test_json_matches_documented_schema(findings_project: Path):
    res = run_subprocess(["check", "--no-cache", "--output-format", "json"], findings_project)
    assert res.code == 1, res
    data = json.loads(res.out)
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    by_code = {d["code"]: d for d in data}
    d = by_code["MFX101"]
    assert d["location"] == {"row": 6, "column": 9} and d["end_location"] == {"row": 6, "column": 29}
    assert Path(d["filename"]).is_absolute() and d["filename"].endswith("pkg/deployer.py")
    assert d["url"].endswith("MFX101.md")
    assert d["fix"]["applicability"] == "unsafe"
    assert d["fix"]["edits"] == [
        {"content": "self._deployer_kwargs", "location": {"row": 6, "column": 9}, "end_location": {"row": 6, "column": 29}}
    ]
    assert any(x["fix"] is not None for x in data), "the fixable example produced no fix"


def test_sarif_validates_against_official_schema(findings_project: Path):
    from third_party_corpus import DownloadError, sarif_schema_path

    try:
        schema_path = sarif_schema_path()
    except DownloadError as exc:
        pytest.skip(f"SARIF schema package could not be downloaded: {exc}")
    res = run_inprocess(["check", "--no-cache", "--output-format", "sarif"], findings_project)
    assert res.code == 1
    doc = json.loads(res.out)
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft4Validator(schema).validate(doc)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "Why is this bad?" in rules["MFX101"]["fullDescription"]["markdown"]
    result = next(r for r in run["results"] if r["ruleId"] == "MFX101")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 6, "startColumn": 9, "endLine": 6, "endColumn": 29}
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "MFX101"


def test_github_annotations(project: Path):
    res = run_inprocess(["check", "--no-cache", "--output-format", "github"], project)
    assert res.out.splitlines() == [
        "::error title=mfx (MFX101),file=pkg/deployer.py,line=6,col=9,endLine=6,endColumn=29::MFX101 "
        + res.out.split("::MFX101 ", 1)[1].splitlines()[0]
    ]


def test_junit_one_case_per_file(findings_project: Path):
    res = run_inprocess(["check", "--no-cache", "--output-format", "junit"], findings_project)
    root = ET.fromstring(res.out)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert {"pkg/deployer.py", "pkg/clean.py", "pkg/broken.py"} <= set(cases)
    assert [f.get("type") for f in cases["pkg/deployer.py"].iter("failure")] == ["MFX101"]
    assert list(cases["pkg/clean.py"].iter("failure")) == []
    assert int(root.get("failures")) == len(list(root.iter("failure")))


def test_full_has_snippet_caret_and_help(project: Path):
    res = run_inprocess(["check", "--no-cache", "--output-format", "full"], project)
    lines = res.out.splitlines()
    assert lines[0].startswith("pkg/deployer.py:6:9: MFX101")
    assert "6 |         self.deployer_kwargs = deployer_kwargs" in lines
    caret = next(line for line in lines if "^" in line)
    assert caret.index("^") == lines[lines.index("6 |         self.deployer_kwargs = deployer_kwargs")].index("self")
    assert caret.count("^") == len("self.deployer_kwargs")
    assert any(line.strip().startswith("= help:") for line in lines)


def test_concise_marks_fixable(findings_project: Path):
    res = run_inprocess(["check", "--no-cache", "--unsafe-fixes"], findings_project)
    assert " [*] " in res.out and "fixable with --fix" in res.out


def test_output_file(project: Path, tmp_path: Path):
    target = tmp_path / "report.json"
    res = run_inprocess(["check", "--no-cache", "--output-format", "json", "-o", str(target)], project)
    assert res.code == 1 and res.out == ""
    assert json.loads(target.read_text())[0]["code"] == "MFX101"
