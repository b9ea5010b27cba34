"""`mfx check`: exit codes, selection, configuration, discovery, usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEPLOYER_BUG, run_inprocess, run_subprocess


def test_finding_exit_1_and_concise_line(project: Path):
    res = run_subprocess(["check", "--no-cache"], project)
    assert res.code == 1, res
    assert "pkg/deployer.py:6:9: MFX101 " in res.out
    assert "Found 1 error." in res.out
    assert res.err == ""


def test_clean_exit_0(project: Path):
    res = run_inprocess(["check", "--no-cache", "pkg/clean.py"], project)
    assert res.code == 0, res
    assert "All checks passed!" in res.out


def test_exit_zero(project: Path):
    res = run_inprocess(["check", "--no-cache", "--exit-zero"], project)
    assert res.code == 0 and "MFX101" in res.out


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--select", "NOPE"],
        ["check", "--ignore", "MFX9999"],
        ["check", "--select", "MFX8"],  # a valid prefix that matches no rule
        ["check", "--output-format", "xml"],
        ["check", "--bogus"],
        ["check", "does-not-exist"],
        ["check", "--jobs", "-3"],
        ["rule", "MFX998"],
        ["rule"],
    ],
)
def test_usage_errors_exit_2_one_line(project: Path, args):
    res = run_subprocess(args, project)
    assert res.code == 2, res
    assert res.err.startswith("mfx") and len(res.err.strip().splitlines()) == 1, res.err
    assert "Traceback" not in res.err


def test_select_ignore_cli(project: Path):
    assert run_inprocess(["check", "--no-cache", "--ignore", "MFX101"], project).code == 0
    assert run_inprocess(["check", "--no-cache", "--ignore", "MFX1"], project).code == 0
    assert run_inprocess(["check", "--no-cache", "--select", "MFX2"], project).code == 0
    assert run_inprocess(["check", "--no-cache", "--select", "MFX2", "--extend-select", "MFX101"], project).code == 1
    # The more specific selector wins: ignore MFX1 but select MFX101.
    assert run_inprocess(["check", "--no-cache", "--select", "MFX101", "--ignore", "MFX1"], project).code == 1
    assert run_inprocess(["check", "--no-cache", "--select", "ALL", "--ignore", "MFX101"], project).code == 0
    # Lower case and comma lists are accepted.
    assert run_inprocess(["check", "--no-cache", "--select", "mfx2,mfx101"], project).code == 1


def test_pyproject_config_and_cli_override(project: Path):
    (project / "pyproject.toml").write_text('[tool.mfx]\nignore = ["MFX101"]\n')
    assert run_inprocess(["check", "--no-cache"], project).code == 0
    # A command-line --select replaces the configured selection (the config's ignore stays in its layer).
    assert run_inprocess(["check", "--no-cache", "--select", "MFX101"], project).code == 1
    (project / "pyproject.toml").write_text('[tool.mfx]\nselect = ["MFX2"]\n')
    assert run_inprocess(["check", "--no-cache"], project).code == 0
    assert run_inprocess(["check", "--no-cache", "--extend-select", "MFX101"], project).code == 1


def test_per_file_ignores_and_exclude(project: Path):
    (project / "pyproject.toml").write_text('[tool.mfx.per-file-ignores]\n"pkg/deploy*.py" = ["MFX1"]\n')
    assert run_inprocess(["check", "--no-cache"], project).code == 0
    (project / "pyproject.toml").write_text('[tool.mfx.per-file-ignores]\n"deployer.py" = ["MFX101"]\n')
    assert run_inprocess(["check", "--no-cache"], project).code == 0, "a glob without / matches the base name"
    (project / "pyproject.toml").write_text('[tool.mfx]\nexclude = ["pkg/deployer.py"]\n')
    assert run_inprocess(["check", "--no-cache"], project).code == 0
    (project / "pyproject.toml").write_text('[tool.mfx]\nexclude = ["pkg"]\n')
    assert run_inprocess(["check", "--no-cache"], project).code == 0


def test_config_flag_and_bad_config(project: Path, tmp_path: Path):
    other = tmp_path / "elsewhere.toml"
    other.write_text('[tool.mfx]\nignore = ["MFX101"]\n')
    assert run_inprocess(["check", "--no-cache", "--config", str(other)], project).code == 0
    for bad in ('[tool.mfx]\nselect = "MFX1"\nbogus = 1\n', '[tool.mfx]\nselect = [1]\n', "[tool.mfx\n", '[tool.mfx]\nignore = ["XYZ1"]\n'):
        (project / "pyproject.toml").write_text(bad)
        res = run_subprocess(["check", "--no-cache"], project)
        assert res.code == 2 and "Traceback" not in res.err and res.err.count("\n") == 1, (bad, res)


def test_default_excludes(project: Path):
    for d in (".venv", "build", "node_modules", ".mfx_cache", "__pycache__"):
        (project / d).mkdir()
        (project / d / "bad.py").write_text(DEPLOYER_BUG)
    res = run_inprocess(["check", "--no-cache", "--statistics"], project)
    assert res.out.startswith("1\tMFX101"), res


def test_syntax_error_is_a_diagnostic(project: Path):
    (project / "pkg" / "broken.py").write_text("def f(:\n    subprocess.run(cmd)\n")
    (project / "pkg" / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9'\n")
    (project / "pkg" / "binary.py").write_bytes(b"\xff\xfe\x00garbage\x00")
    # No enabled rule can report in this one (none of their words): skimmed, never parsed.
    (project / "pkg" / "unrelated.py").write_text("def g(:\n    pass\n")
    res = run_subprocess(["check", "--no-cache"], project)
    assert res.code == 1 and "Traceback" not in res.err, res
    assert "pkg/broken.py:1:7: MFX000 SyntaxError" in res.out
    assert "pkg/binary.py:1:1: MFX000" in res.out
    assert "latin.py" not in res.out and "unrelated.py" not in res.out


def test_statistics(project: Path):
    res = run_inprocess(["check", "--no-cache", "--statistics"], project)
    assert res.code == 1 and res.out.splitlines()[0] == "1\tMFX101\tdeployer-kwargs-assigned"


def test_rule_docs_command(project: Path):
    res = run_inprocess(["rule", "MFX101"], project)
    assert res.code == 0 and "deployer-kwargs-assigned (MFX101)" in res.out and "Why is this bad?" in res.out
    res = run_inprocess(["rule", "mfx101", "--format", "md"], project)
    assert res.out.splitlines()[1] == "# deployer-kwargs-assigned (MFX101)"
    res = run_inprocess(["rule", "--all"], project)
    assert res.code == 0 and "(MFX000)" in res.out and "(MFX999)" in res.out


def test_compliance_dispatch_never_tracebacks(project: Path):
    res = run_subprocess(["compliance", "--help"], project)
    assert "Traceback" not in res.err


def test_jobs_parallel_same_as_serial(tmp_path: Path):
    # Enough files and bytes to use the process pool.
    for i in range(8):
        # A long string literal is many bytes but one token: cheap to parse and to visit.
        (tmp_path / f"m{i}.py").write_text(DEPLOYER_BUG + "\nDATA = '" + "x" * 30000 + "'\n")
    serial = run_inprocess(["check", "--no-cache", "-j", "1"], tmp_path)
    parallel = run_inprocess(["check", "--no-cache", "-j", "2"], tmp_path)
    assert serial.code == parallel.code == 1
    assert serial.out == parallel.out and serial.out.count("MFX101") == 8


@pytest.mark.parametrize(
    "data, where",
    [
        (b"a = 1\n\x00\n", "2:1"),  # ruff: 2:1
        (b"a = 1\r\nb = 2\rc = 3\n  \x00\n", "4:3"),  # CRLF and a lone CR both end a line
        (b'x = 1\ny = "\xc3\xa9"\x00\n', "2:8"),  # columns count characters, not bytes (ruff: 2:8)
        (b"\x00", "1:1"),
    ],
)
def test_null_byte_is_reported_where_it_is(project: Path, data: bytes, where: str):
    """CPython rejects a NUL without a position and libcst says 1:1: the report points at the byte."""
    (project / "pkg" / "nul.py").write_bytes(data)
    res = run_subprocess(["check", "--no-cache", "pkg/nul.py"], project)
    assert res.code == 1 and "Traceback" not in res.err, res
    assert f"pkg/nul.py:{where}: MFX000 SyntaxError:" in res.out, res


def test_symlinks_are_reported_under_their_own_path(project: Path, tmp_path: Path):
    """A dangling link is reported where it is (not under its target's path); a link to a file
    elsewhere is linted and reported under the link's path, as ruff does."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "real.py").write_text(DEPLOYER_BUG)
    (project / "pkg" / "dangling.py").symlink_to("../gone/target.py")
    (project / "pkg" / "link.py").symlink_to(outside / "real.py")
    res = run_subprocess(["check", "--no-cache", "pkg"], project)
    assert res.code == 1, res
    assert "pkg/dangling.py:1:1: MFX000 could not read file: broken symbolic link" in res.out, res
    assert "gone/target.py:" not in res.out.replace("its target ../gone/target.py", ""), res
    assert "pkg/link.py:6:9: MFX101 " in res.out and "real.py:" not in res.out, res
    # Named explicitly, the same paths.
    res = run_subprocess(["check", "--no-cache", "pkg/dangling.py", "pkg/link.py"], project)
    assert res.code == 1 and "Traceback" not in res.err, res
    assert res.out.startswith("pkg/dangling.py:1:1: MFX000 "), res
    assert "pkg/link.py:6:9: MFX101 " in res.out, res
    assert run_subprocess(["check", "--no-cache", "pkg/nothing-here.py"], project).code == 2


@pytest.mark.parametrize("fmt", ["concise", "full", "json", "github", "sarif", "junit"])
@pytest.mark.parametrize("extra", [[], ["--statistics"], ["-q"], ["--exit-zero"]], ids=["plain", "statistics", "quiet", "exit-zero"])
@pytest.mark.parametrize("target", ["pkg", "pkg/clean.py"], ids=["findings", "clean"])
def test_every_output_ends_with_a_newline(project: Path, tmp_path: Path, fmt: str, extra: list, target: str):
    """Printed or written with -o, every format ends with a newline (or is empty)."""
    out_file = tmp_path / "report.out"
    args = ["check", "--no-cache", "--output-format", fmt, *extra, target]
    printed = run_inprocess(args, project).out
    run_inprocess([*args, "-o", str(out_file)], project)
    written = out_file.read_text()
    assert printed == written
    assert written == "" or written.endswith("\n"), (fmt, extra, target, written[-200:])


def test_rule_json_lists_every_rule_with_its_scope_and_pitfalls(project: Path):
    import json

    from mfx import pitfalls
    from mfx.engine.runner import all_rules

    res = run_inprocess(["rule", "--all", "--output-format", "json"], project)
    assert res.code == 0, res
    listed = {r["code"]: r for r in json.loads(res.out)}
    assert set(listed) >= {r.code for r in all_rules()} | {"MFX000", "MFX999"}
    for rule in all_rules():
        entry = listed[rule.code]
        assert entry["name"] == rule.name and entry["pitfalls"] == list(rule.pitfalls)
        assert all(p in pitfalls.PITFALLS for p in entry["pitfalls"]) and entry["explanation"].startswith("## What it does")
    assert listed["MFX101"]["scope"] == "file" and listed["MFX207"]["scope"] == "project"
    assert listed["MFX025"]["scope"] == "project-file" and listed["MFX000"]["scope"] == "engine"
    one = run_inprocess(["rule", "MFX101", "--format", "json"], project)
    assert json.loads(one.out) == [listed["MFX101"]]
