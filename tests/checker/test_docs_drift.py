"""docs/rules and the README rule tables are generated from the rules: fail when they drift.

Refresh with::

    mfx rule --write-docs docs/rules
    mfx rule --update-table README.md
    mfx rule --update-table checker/README.md --link-prefix ../docs/rules/
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, run_inprocess
from mfx import ruledocs

REFRESH = (
    "refresh with: mfx rule --write-docs docs/rules && mfx rule --update-table README.md && "
    "mfx rule --update-table checker/README.md --link-prefix ../docs/rules/"
)

TABLES = [(REPO / "README.md", "docs/rules/"), (REPO / "checker" / "README.md", "../docs/rules/")]


def test_rule_pages_up_to_date():
    problems = ruledocs.check_docs(REPO / "docs" / "rules")
    assert problems == [], f"docs/rules drifted: {problems}; {REFRESH}"


@pytest.mark.parametrize("path, prefix", TABLES, ids=lambda v: str(v))
def test_readme_tables_up_to_date(path: Path, prefix: str):
    if ruledocs.TABLE_START not in path.read_text():
        pytest.skip(f"{path.name} has no rule table markers")
    assert ruledocs.check_table(path, prefix), f"{path} rule table drifted; {REFRESH}"


def test_generator_round_trip(tmp_path: Path):
    """write-docs then check-docs is clean; a stale, a missing and a left-over page are caught."""
    docs = tmp_path / "rules"
    assert run_inprocess(["rule", "--write-docs", str(docs)], tmp_path).code == 0
    assert run_inprocess(["rule", "--check-docs", str(docs)], tmp_path).code == 0
    (docs / "MFX101.md").write_text("stale\n")
    (docs / "MFX000.md").unlink()
    (docs / "MFX998.md").write_text("gone\n")
    res = run_inprocess(["rule", "--check-docs", str(docs)], tmp_path)
    assert res.code == 1 and "MFX101.md (stale)" in res.err and "MFX000.md (missing)" in res.err
    assert "MFX998.md (no such rule)" in res.err and "--write-docs" in res.err
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{ruledocs.TABLE_START}\nold\n{ruledocs.TABLE_END}\n\nafter\n")
    assert run_inprocess(["rule", "--check-table", str(readme)], tmp_path).code == 1
    assert run_inprocess(["rule", "--update-table", str(readme)], tmp_path).code == 0
    text = readme.read_text()
    assert "| [MFX101](docs/rules/MFX101.md) | deployer-kwargs-assigned |" in text and text.endswith("\n\nafter\n")
    assert run_inprocess(["rule", "--check-table", str(readme)], tmp_path).code == 0


def test_every_page_has_title_and_sections():
    for info in ruledocs.all_infos():
        page = ruledocs.rule_page(info)
        assert f"# {info.name} ({info.code})" in page
        for section in ruledocs.REQUIRED_SECTIONS:
            assert f"## {section}" in page
