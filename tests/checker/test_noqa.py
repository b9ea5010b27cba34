"""`# noqa` suppressions read from real comments (tokenizer), per line and per file."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEPLOYER_BUG, run_inprocess
from mfx.engine.noqa import parse_noqa

BUG_LINE = "        self.deployer_kwargs = deployer_kwargs"


def _with_line(replacement: str) -> str:
    return DEPLOYER_BUG.replace(BUG_LINE, replacement)


@pytest.mark.parametrize(
    "line, suppressed",
    [
        (BUG_LINE + "  # noqa", True),
        (BUG_LINE + "  # NOQA", True),
        (BUG_LINE + "  # noqa: MFX101", True),
        (BUG_LINE + "  # noqa:MFX101,E501", True),
        (BUG_LINE + "  # noqa: E501 MFX1", True),
        (BUG_LINE + "  # noqa: mfx101", True),
        (BUG_LINE + "  # type: ignore  # noqa: MFX101", True),
        (BUG_LINE + "  # noqa: MFX102", False),
        (BUG_LINE + "  # noqa: E501", False),
        (BUG_LINE + "; s = '# noqa'", False),
    ],
)
def test_line_noqa(tmp_path: Path, line: str, suppressed: bool):
    (tmp_path / "m.py").write_text(_with_line(line))
    res = run_inprocess(["check", "--no-cache", "m.py"], tmp_path)
    assert (res.code == 0) == suppressed, res


def test_noqa_in_string_is_not_a_comment():
    source = 's = """\n# noqa\n"""\nx = 1  # noqa: MFX101\n'
    noqa = parse_noqa(source)
    assert 2 not in noqa.lines and noqa.lines[4] == frozenset({"MFX101"})
    # A finding inside the multi-line string is suppressed by a comment after the string.
    assert noqa.noqa_row(2) == 3


@pytest.mark.parametrize(
    "header, suppressed",
    [("# mfx: noqa\n", True), ("# mfx: noqa: MFX101\n", True), ("# mfx: noqa: MFX2\n", False), ("# noqa\n", False)],
)
def test_file_level_noqa(tmp_path: Path, header: str, suppressed: bool):
    (tmp_path / "m.py").write_text(header + DEPLOYER_BUG)
    res = run_inprocess(["check", "--no-cache", "m.py"], tmp_path)
    assert (res.code == 0) == suppressed, res


def test_syntax_errors_cannot_be_suppressed(tmp_path: Path):
    (tmp_path / "m.py").write_text("# mfx: noqa\ndef f(:  # noqa\n    os.environ['X']\n")
    res = run_inprocess(["check", "--no-cache", "m.py"], tmp_path)
    assert res.code == 1 and "MFX000" in res.out


def test_noqa_row_in_json(tmp_path: Path):
    import json

    (tmp_path / "m.py").write_text(DEPLOYER_BUG)
    res = run_inprocess(["check", "--no-cache", "--output-format", "json", "m.py"], tmp_path)
    assert json.loads(res.out)[0]["noqa_row"] == 6
