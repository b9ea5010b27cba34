"""Project-file rules (pyproject.toml, CI workflows) through the real CLI: discovery, positions,
noqa, selection, parse errors, cache, and the comment / command scanners they rely on."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import run_inprocess
from mfx.discovery import discover
from mfx.engine.runner import all_rules
from mfx.projectfiles import PATTERNS, matches
from mfx.projectfiles.base import ProjectFileRule
from mfx.projectfiles.noqa import parse_noqa
from mfx.projectfiles.runner import lint_project_files
from mfx.rules.mfx026_workflow_conflicting_ux_conftests import loads_both_conftests, split_commands
from mfx.testing import as_files

SELECT = ["--select", "MFX025,MFX026", "--no-cache"]

HATCH = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "metaflow-acme"
version = "0.1.0"
"""

WORKFLOW = """\
name: ux
on: [push]
jobs:
  ux:
    runs-on: ubuntu-latest
    steps:
      - run: |
          pip install -e .
          pytest "$KIT/compliance" \\
            metaflow/test/ux/core -x
      - run: pytest kit/compliance test/ux/core
"""


def write(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def extension(root: Path, pyproject: str = HATCH, workflow: str = WORKFLOW) -> Path:
    return write(
        root,
        {
            "pyproject.toml": pyproject,
            "metaflow_extensions/acme/plugins/mfextinit_acme.py": "CLIS_DESC = []\n",
            ".github/workflows/ux.yml": workflow,
        },
    )


def check_json(root: Path, *extra: str) -> tuple[int, list[dict]]:
    res = run_inprocess(["check", ".", *SELECT, "--output-format", "json", *extra], root)
    assert "Traceback" not in res.err
    return res.code, [
        {"code": d["code"], "file": Path(d["filename"]).relative_to(root.resolve()).as_posix(),
         "row": d["location"]["row"], "col": d["location"]["column"], "message": d["message"]}
        for d in json.loads(res.out)
    ]


def test_discovery_picks_project_files_only(tmp_path: Path):
    write(
        tmp_path,
        {
            "pyproject.toml": "", "sub/pyproject.toml": "", ".github/workflows/ci.yml": "",
            ".github/workflows/rel.yaml": "", ".github/workflows/old/x.yml": "", ".github/dependabot.yml": "",
            "config.toml": "", "a.py": "", ".venv/pyproject.toml": "",
        },
    )
    found = {p.relative_to(tmp_path.resolve()).as_posix() for p in discover([str(tmp_path)], tmp_path, [".venv"])}
    assert found == {"pyproject.toml", "sub/pyproject.toml", ".github/workflows/ci.yml", ".github/workflows/rel.yaml", "a.py"}


def test_findings_point_at_the_offending_key_and_command(tmp_path: Path):
    code, found = check_json(extension(tmp_path))
    assert code == 1
    assert [(d["code"], d["file"], d["row"], d["col"]) for d in found] == [
        ("MFX026", ".github/workflows/ux.yml", 9, 11),  # the pytest line inside `run: |`
        ("MFX026", ".github/workflows/ux.yml", 11, 9),  # a one-line `run:`: the key
        ("MFX025", "pyproject.toml", 3, 1),  # build-backend
    ]
    assert "hatchling" in found[2]["message"] and "setuptools" in found[2]["message"]


def test_setuptools_extension_is_clean_and_misconfiguration_is_found(tmp_path: Path):
    good = HATCH.replace('"hatchling"]', '"setuptools>=77"]').replace("hatchling.build", "setuptools.build_meta")
    assert check_json(extension(tmp_path, good, "jobs: {}\n")) == (0, [])
    bad = good + '\n[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    code, found = check_json(extension(tmp_path, bad, "jobs: {}\n"))
    assert (code, [(d["code"], d["row"]) for d in found]) == (1, [("MFX025", 10)])
    assert "where" in found[0]["message"]


def test_not_an_extension_is_not_checked(tmp_path: Path):
    write(tmp_path, {"pyproject.toml": HATCH.replace("metaflow-acme", "lib"), "lib/__init__.py": ""})
    assert check_json(tmp_path) == (0, [])


def test_noqa_comments_in_toml_and_yaml(tmp_path: Path):
    pyproject = HATCH.replace('"hatchling.build"', '"hatchling.build"  # noqa: MFX025')
    workflow = WORKFLOW.replace("-x\n", "-x  # noqa: MFX026\n").replace(
        "test/ux/core\n", "test/ux/core  # noqa: MFX101\n"
    )
    code, found = check_json(extension(tmp_path, pyproject, workflow))
    # The continued command's noqa sits on its last line; a noqa for another code keeps it.
    assert (code, [(d["code"], d["row"]) for d in found]) == (1, [("MFX026", 11)])


def test_noqa_scanner_ignores_hashes_in_strings():
    toml = 'a = "x # noqa: MFX025"\nb = """\n# noqa\n"""\nc = 1 # noqa: MFX025\n# mfx: noqa: MFX026\n'
    noqa = parse_noqa(toml, "toml")
    assert set(noqa.lines) == {5} and noqa.file_codes == frozenset({"MFX026"})
    yaml = "a: 'x # noqa'\nb: c#d\nrun: pytest x  # noqa: MFX026\n"
    assert set(parse_noqa(yaml, "yaml").lines) == {3}


def test_selection_and_per_file_ignores(tmp_path: Path):
    extension(tmp_path)
    _, found = check_json(tmp_path, "--ignore", "MFX026")
    assert [d["code"] for d in found] == ["MFX025"]
    config = HATCH + '\n[tool.mfx]\nper-file-ignores = { ".github/*" = ["MFX026"], "pyproject.toml" = ["MFX025"] }\n'
    extension(tmp_path, config)
    assert check_json(tmp_path) == (0, [])


def test_parse_errors_are_reported_not_raised(tmp_path: Path):
    extension(tmp_path, workflow="jobs:\n  ux: [1\n")
    write(tmp_path, {"sub/pyproject.toml": "[project\nname = 'x'\n"})
    code, found = check_json(tmp_path)
    errors = [(d["code"], d["file"], d["row"]) for d in found if d["code"] == "MFX000"]
    assert code == 1 and errors == [("MFX000", ".github/workflows/ux.yml", 3), ("MFX000", "sub/pyproject.toml", 1)]
    assert any("YAML parse error" in d["message"] for d in found)
    assert any("TOML parse error" in d["message"] for d in found)
    # Nobody reads the files when no project-file rule is selected: no parse errors either.
    res = run_inprocess(["check", ".", "--select", "MFX000", "--no-cache"], tmp_path)
    assert res.code == 0, res


def test_cache_follows_project_files(tmp_path: Path):
    extension(tmp_path)
    args = ["check", ".", "--select", "MFX025,MFX026", "--output-format", "concise"]
    first = run_inprocess(args, tmp_path)
    again = run_inprocess(args, tmp_path)
    assert first.code == again.code == 1 and first.out == again.out and "MFX025" in first.out
    (tmp_path / ".github/workflows/ux.yml").write_text("jobs: {}\n")
    after = run_inprocess(args, tmp_path)
    assert "MFX026" in first.out and "MFX026" not in after.out and "MFX025" in after.out


def test_a_crashing_project_file_rule_is_an_internal_error():
    class Crashes(ProjectFileRule):
        code, name, message, FILES = "MFX998", "crashes", "", ("pyproject.toml",)

        def check_file(self, file):
            raise RuntimeError("boom")

    found = lint_project_files({"pyproject.toml": "x = 1\n"}, [Crashes])
    assert [(d.code, d.path) for d in found] == [("MFX999", "pyproject.toml")]
    assert "MFX998" in found[0].message and "boom" in found[0].message


@pytest.mark.parametrize(
    "script, commands",
    [
        ("a && b; c | d\ne", ["a", "b", "c", "d", "e"]),
        ("pytest x \\\n  y  # note\nz", ["pytest x y", "z"]),
        ("echo 'a;b' \"c && d\" $(x; y)", ["echo 'a;b' \"c && d\" $(x; y)"]),
    ],
)
def test_split_commands(script: str, commands: list):
    assert [" ".join(c.split()) for _, _, c in split_commands(script)] == commands


def test_command_needs_pytest_and_both_directories():
    assert loads_both_conftests("uv run pytest kit/compliance metaflow/test/ux/core")
    assert loads_both_conftests("python -m pytest --pyargs metaflow_orchestrator_kit test/ux/core/test_basic.py")
    assert not loads_both_conftests("pytest kit/compliance")
    assert not loads_both_conftests("cp -r kit/compliance test/ux/core")


def test_project_file_rules_declare_known_files_and_examples():
    rules = [r for r in all_rules() if issubclass(r, ProjectFileRule)]
    assert {r.code for r in rules} >= {"MFX025", "MFX026"}
    for rule in rules:
        assert rule.FILES and set(rule.FILES) <= set(PATTERNS), rule.code
        for example in [*rule.VALID, *rule.INVALID]:
            paths = as_files(example.source)
            assert any(matches(p, f) for p in paths for f in rule.FILES), f"{rule.code}: example without a project file"


def test_generated_repositories_are_clean(tmp_path: Path):
    """The template's setuptools pyproject and CI workflow pass; the rules really read them."""
    from support.generate import render_snapshot

    for kind in ("orchestrator", "backend"):
        dst = render_snapshot(tmp_path / kind, kind=kind)
        assert (dst / "pyproject.toml").is_file() and (dst / ".github/workflows/ci.yml").is_file()
        assert check_json(dst) == (0, []), kind
        pyproject = dst / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace("setuptools.build_meta", "hatchling.build"))
        code, found = check_json(dst)
        assert code == 1 and [d["code"] for d in found] == ["MFX025"], kind


def test_examples_are_dedented_like_python_examples():
    rule = next(r for r in all_rules() if r.code == "MFX026")
    text = as_files(rule.INVALID[0].source)[".github/workflows/ux.yml"]
    assert text.startswith("name: ux\n") and textwrap.dedent(text) == text


def test_published_wheels_confirm_the_backend_table():
    """MFX025's facts against the pinned third-party wheels: a wheel whose generator is in the
    rule's no-top_level.txt table has no top_level.txt; a setuptools wheel lists metaflow_extensions."""
    from mfx.rules.mfx025_extension_wheel_without_top_level import NO_TOP_LEVEL
    from third_party_corpus import DownloadError, corpus_dirs

    try:
        dirs = corpus_dirs()
    except DownloadError as exc:
        pytest.skip(f"third-party wheels could not be downloaded: {exc}")
    seen = set()
    for dist, directory in dirs.items():
        (info,) = directory.glob("*.dist-info")
        generator = next(
            (line.split(":", 1)[1].split()[0] for line in (info / "WHEEL").read_text().splitlines()
             if line.startswith("Generator:")),
            "",
        )
        top_level = info / "top_level.txt"
        if generator == "setuptools":
            assert "metaflow_extensions" in top_level.read_text().split(), dist
        elif generator in NO_TOP_LEVEL.values():
            assert not top_level.exists(), dist
        seen.add(generator)
    assert {"setuptools", "hatchling"} <= seen  # both sides of the rule are exercised


EXT_FILE = {"metaflow_extensions/acme/plugins/mfextinit_acme.py": "CLIS_DESC = []\n"}
SETUPTOOLS = '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
HATCHLING = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n[project]\nname = "metaflow-acme"\n'


@pytest.mark.parametrize(
    "pyproject, extra, want",
    [
        (SETUPTOOLS + '[tool.setuptools]\npackages = ["acme"]\n', {}, [(5, "`packages`")]),
        (SETUPTOOLS + '[tool.setuptools]\npackages = ["metaflow_extensions.acme.plugins"]\n', {}, []),
        (SETUPTOOLS + '[tool.setuptools]\npy-modules = ["acme"]\n', {}, [(5, "py-modules")]),
        (SETUPTOOLS + '[tool.setuptools.packages.find]\ninclude = ["acme*"]\n', {}, [(5, "include")]),
        (SETUPTOOLS + '[tool.setuptools.packages.find]\nexclude = ["metaflow_extensions*"]\n', {}, [(5, "exclude")]),
        (SETUPTOOLS + '[tool.setuptools.packages.find]\nexclude = ["metaflow_extensions"]\n', {}, []),
        (SETUPTOOLS + "[tool.setuptools]\npackages = { find = { namespaces = false } }\n", {}, [(5, "namespaces")]),
        (HATCHLING + "[tool.hatch.build.hooks.custom]\n", {"hatch_build.py": "open('top_level.txt', 'w')\n"}, []),
        (HATCHLING + "[tool.hatch.build.hooks.custom]\n", {"hatch_build.py": "x = 1\n"}, [(3, "hatchling writes")]),
        (
            HATCHLING + '[tool.hatch.build.force-include]\n"t.txt" = "other-1.0.dist-info/top_level.txt"\n',
            {},
            [(7, "not this wheel's .dist-info")],
        ),
        ('[build-system]\nbuild-backend = "pdm.backend"\n', {"pdm_build.py": "top_level.txt\n"}, []),
        ('[build-system]\nbuild-backend = "pdm.backend"\n', {}, [(2, "pdm-backend")]),
        ('[build-system]\nbuild-backend = "poetry.core.masonry.api"\n', {}, [(2, "poetry-core")]),
        ('[build-system]\nbuild-backend = "uv_build"\n', {}, [(2, "uv_build")]),
        ('[build-system]\nbuild-backend = "maturin"\n', {}, []),  # not verified: not guessed
    ],
)
def test_extension_wheel_without_top_level_cases(pyproject, extra, want):
    from mfx.engine.runner import lint_sources

    rule = next(r for r in all_rules() if r.code == "MFX025")
    found = lint_sources({"pyproject.toml": pyproject, **EXT_FILE, **extra}, [rule])
    assert [(d.line, d.code) for d in found] == [(line, "MFX025") for line, _ in want]
    for d, (_, words) in zip(found, want):
        assert words in d.message
