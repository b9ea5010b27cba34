"""`--fix`, `--unsafe-fixes`, `--diff`: on every rule example that has an expected fix, through
the real CLI. Fixing is idempotent, the result re-parses, and a second run has nothing to fix."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from conftest import run_inprocess, run_subprocess
from mfx.engine.runner import all_rules
from mfx.testing import as_files

FIX_EXAMPLES = [
    pytest.param(rule, i, id=f"{rule.code}-{i}")
    for rule in all_rules()
    for i, ex in enumerate(rule.INVALID)
    if ex.fixed is not None
]


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _read(root: Path, files: dict[str, str]) -> dict[str, str]:
    return {rel: (root / rel).read_text() for rel in files}


@pytest.mark.parametrize("rule, index", FIX_EXAMPLES)
def test_fix_example_through_cli(tmp_path: Path, rule, index: int):
    example = rule.INVALID[index]
    before, expected = as_files(example.source), as_files(example.fixed)
    _write(tmp_path, before)
    unsafe = ["--unsafe-fixes"] if rule.fix.value == "unsafe" else []

    diff = run_inprocess(["check", "--no-cache", "--select", rule.code, "--diff", *unsafe], tmp_path)
    assert diff.code == 1 and diff.out.startswith("---"), diff
    assert _read(tmp_path, before) == before, "--diff must not write"

    if unsafe:  # without --unsafe-fixes an unsafe fix is only offered, never applied
        run_inprocess(["check", "--no-cache", "--select", rule.code, "--fix"], tmp_path)
        assert _read(tmp_path, before) == before

    run_inprocess(["check", "--no-cache", "--select", rule.code, "--fix", *unsafe], tmp_path)
    after = _read(tmp_path, expected)
    assert after == expected
    for text in after.values():
        cst.parse_module(text)

    again = run_inprocess(["check", "--no-cache", "--select", rule.code, "--fix", "--show-fixes", *unsafe], tmp_path)
    assert "No errors fixed." in again.out, again
    assert _read(tmp_path, expected) == expected, "fixing is idempotent"
    second_diff = run_inprocess(["check", "--no-cache", "--select", rule.code, "--diff", *unsafe], tmp_path)
    assert second_diff.code == 0 and second_diff.out == ""


def test_fix_reports_remaining_and_counts(tmp_path: Path):
    if not FIX_EXAMPLES:
        pytest.skip("no rule has a fix yet")
    rule, index = FIX_EXAMPLES[0].values
    _write(tmp_path, as_files(rule.INVALID[index].source))
    res = run_subprocess(["check", "--no-cache", "--select", rule.code, "--fix", "--unsafe-fixes", "--show-fixes"], tmp_path)
    assert "fixed" in res.out and "Fixed " in res.out and "Traceback" not in res.err, res


def test_fix_keeps_encoding_and_newlines(tmp_path: Path):
    """Files are written back with their own encoding; untouched files are not rewritten."""
    path = tmp_path / "latin.py"
    data = b"# -*- coding: latin-1 -*-\r\nname = '\xe9'\r\n"
    path.write_bytes(data)
    res = run_inprocess(["check", "--no-cache", "--fix", "--unsafe-fixes"], tmp_path)
    assert res.code == 0 and path.read_bytes() == data
