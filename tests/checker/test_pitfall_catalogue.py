"""One catalogue of pitfalls (mfx/pitfalls.py): every id used anywhere is in it, and
docs/pitfalls.md is generated from it and from the code that cites it.

Refresh the page with ``python tools/pitfalls_doc.py`` (``nox -s docs``).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_inprocess
from mfx import pitfalls as catalogue
from mfx.compliance import capabilities as registry
from mfx.compliance.expect import TITLES, pitfall

sys.path.insert(0, str(REPO / "tests"))
from mutations.mutants import load_mutants, pitfall_of_name  # noqa: E402


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"_tool_{name}", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


pitfalls_doc = _tool("pitfalls_doc")

TEXT_SUFFIXES = {".py", ".md", ".jinja", ".patch", ".toml", ".yml", ".yaml", ".txt", ".json", ".sh", ".cfg", ".ini", ""}
#: Not scanned: version control, caches, and this file (it writes unknown ids on purpose).
SKIPPED_PARTS = {".git", "__pycache__", ".nox", ".venv", ".mfx_cache", ".pytest_cache", "node_modules", "reports", ".ruff_cache"}


# -- the catalogue itself ------------------------------------------------------------------------


def test_ids_are_contiguous_per_kind_and_unique():
    for kind, letter, count in ((catalogue.ORCHESTRATOR, "O", 32), (catalogue.BACKEND, "B", 28)):
        ids = [p.id for p in catalogue.all_pitfalls(kind)]
        assert ids == [f"{letter}{n}" for n in range(1, count + 1)]
    assert len(catalogue.PITFALLS) == 60 == len(catalogue.all_pitfalls())
    anchors = [p.anchor for p in catalogue.all_pitfalls()]
    assert len(set(anchors)) == len(anchors) and all(re.fullmatch(r"[ob]\d+", a) for a in anchors)


@pytest.mark.parametrize("p", catalogue.all_pitfalls(), ids=lambda p: p.id)
def test_entry_shape(p: catalogue.Pitfall):
    assert p.title and p.title == p.title.strip() and "\n" not in p.title and len(p.title) <= 80
    assert p.summary.endswith(".") and "\n" not in p.summary and 30 <= len(p.summary) <= 240
    assert catalogue.ID_PATTERN.fullmatch(p.id) and p.kind in (catalogue.ORCHESTRATOR, catalogue.BACKEND)
    assert p.link() == f"docs/pitfalls.md#{p.id.lower()}"


def test_titles_are_distinct():
    titles = [p.title.lower() for p in catalogue.all_pitfalls()]
    assert len(set(titles)) == len(titles)


def test_lookup_helpers():
    assert catalogue.get("o21").id == "O21"
    with pytest.raises(KeyError, match="unknown pitfall id 'O33'.*O1-O32.*B1-B28"):
        catalogue.get("O33")
    assert catalogue.split_ids("O2,O21") == catalogue.split_ids("O2/O21") == catalogue.split_ids(" O2, O21 ") == ["O2", "O21"]
    assert catalogue.unknown(["O1", "O33", "B29", "B0", "O01", "X1"]) == ["O33", "B29", "B0", "O01", "X1"]
    # B902 (a flake8 code) and O(1) are not pitfall ids; O01 is one, and unknown
    assert catalogue.cited("see O21 and (B12); noqa: B902, O(1), O01, xO3, O3x") == ["O21", "B12", "O01"]
    assert sorted(["B1", "O10", "O2"], key=catalogue.sort_key) == ["O2", "O10", "B1"]


# -- every id used anywhere is in the catalogue --------------------------------------------------


def test_nothing_cites_an_unknown_id():
    """Rules, capabilities, failure messages, plumbing, template tests and mutants (the
    structured citations docs/pitfalls.md is built from)."""
    found = pitfalls_doc.collect()
    assert found.unknown == []
    # and each of those sources was really read
    assert found.rules and found.capabilities and found.messages and found.plumbing and found.template_tests
    assert found.mutants and found.no_mutant


def _scanned_files():
    for file in sorted(REPO.rglob("*")):
        parts = set(file.relative_to(REPO).parts)
        if file.is_file() and file.suffix in TEXT_SUFFIXES and not parts & SKIPPED_PARTS and file != Path(__file__).resolve():
            yield file


def test_no_unknown_id_in_any_text():
    """Any pitfall-shaped id written anywhere (comments such as `# O21` in the plumbing, docs,
    docstrings, patch names and bodies) is in the catalogue."""
    bad = []
    count = 0
    for file in _scanned_files():
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        cited = catalogue.cited(text) + catalogue.cited(file.name)
        count += len(cited)
        bad += [f"{file.relative_to(REPO)}: {pid}" for pid in catalogue.unknown(cited)]
    assert bad == []
    assert count > 500, "the scan read the plumbing, docs and suite"


def test_capabilities_cite_known_pitfalls_of_their_kind():
    for cap in registry.REGISTRY.values():
        assert not catalogue.unknown(cap.pitfalls), (cap.kind, cap.id, cap.pitfalls)
        assert all(catalogue.get(p).kind == cap.kind for p in cap.pitfalls), (cap.kind, cap.id, cap.pitfalls)


def test_failure_message_scanner_flags_unknown_ids():
    """The scanner behind test_nothing_cites_an_unknown_id, on adversarial code."""
    source = '''
import pytest
from mfx.compliance.expect import fail, pitfall

def helper(h):
    pid, fix = "O3,O99", "register the group"
    raise fail(pid, "x", fix=fix)

def test_a(run):
    assert run, pitfall("B29", "y")
    assert run, pitfall("O15/O2", "z")
    pytest.fail("O5 is mentioned in prose here, and B99 too")
    assert run, "O77 is prose in a plain message"

class Harness:
    def wait(self):
        raise fail("O0", "w")
'''
    found = pitfalls_doc.Citations()
    pitfalls_doc._MessageVisitor(found, "t.py").visit(ast.parse(source))
    assert sorted(pid for _, pid in found.unknown) == ["B29", "O0", "O99"]
    assert found.messages == {"O3": {"t.py::helper"}, "O15": {"t.py::test_a"}, "O2": {"t.py::test_a"}}


def test_pitfall_messages_use_catalogue_titles():
    assert set(TITLES) == set(catalogue.PITFALLS)
    assert pitfall("O21", "x").startswith(f"[O21 {catalogue.get('O21').title}] x")
    assert pitfall("O21,O99", "x").startswith(f"[O21 {catalogue.get('O21').title}; O99 (not in the pitfall catalogue)] x")


# -- mutants -------------------------------------------------------------------------------------


def _patch(tmp_path: Path, name: str, header: str) -> Path:
    tmp_path.mkdir(parents=True)
    (tmp_path / name).write_text(f"{header}\n# why\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n")
    return tmp_path


def test_mutant_names_and_headers_name_catalogue_pitfalls(tmp_path: Path):
    folders = pitfalls_doc.patch_folders()
    assert {"orchestrator", "backend"} <= {f.name for f in folders}
    for folder in folders:
        for m in load_mutants(folder):
            assert pitfall_of_name(m.path.name) == m.pitfall
            assert catalogue.get(m.pitfall).kind == folder.name or folder.name not in (catalogue.ORCHESTRATOR, catalogue.BACKEND)
    assert pitfall_of_name("b01_x.patch") == "B1" and pitfall_of_name("o12_x.patch") == "O12" and pitfall_of_name("x.patch") == ""
    good = _patch(tmp_path / "good", "o3_ok.patch", "# mfx-mutation: pitfall=O3 expect=test_a")
    assert [m.pitfall for m in load_mutants(good)] == ["O3"]
    with pytest.raises(AssertionError, match="not in the catalogue"):
        load_mutants(_patch(tmp_path / "unknown", "o99_x.patch", "# mfx-mutation: pitfall=O99 expect=test_a"))
    with pytest.raises(AssertionError, match="must start with the pitfall of its header"):
        load_mutants(_patch(tmp_path / "mismatch", "o3_x.patch", "# mfx-mutation: pitfall=O4 expect=test_a"))


# -- docs/pitfalls.md ----------------------------------------------------------------------------


def test_pitfalls_doc_is_current():
    result = subprocess.run([sys.executable, str(REPO / "tools" / "pitfalls_doc.py"), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr + "; refresh with: python tools/pitfalls_doc.py"


def test_pitfalls_doc_derives_every_column():
    """Each entry lists what cites the id, read from the code, e.g. MFX212 detects only O20."""
    page = (REPO / "docs" / "pitfalls.md").read_text(encoding="utf-8")
    for p in catalogue.all_pitfalls():
        assert f'<a id="{p.anchor}"></a>' in page and f"### {p.id}. {p.title}" in page
    o20 = page.split('<a id="o20"></a>')[1].split("<a id=")[0]
    o18 = page.split('<a id="o18"></a>')[1].split("<a id=")[0]
    assert "[MFX212](rules/MFX212.md)" in o20 and "MFX212" not in o18
    assert "`orchestrator/o20_literal_start_step.patch`" in o20
    b18 = page.split('<a id="b18"></a>')[1].split("<a id=")[0]
    assert "- No mutant: not dynamically detectable against Slurm" in b18
    o1 = page.split('<a id="o1"></a>')[1].split("<a id=")[0]
    assert "`create` (orchestrator; `test_create_returns_named_deployment`)" in o1 and "`harness.py::Harness._create`" in o1


def test_pitfall_links_resolve():
    """Rule pages, README tables, contract and capability docs link ids to an existing anchor."""
    page = (REPO / "docs" / "pitfalls.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([ob]\d+)"></a>', page))
    linking = [*(REPO / "docs" / "rules").glob("MFX*.md"), REPO / "README.md", REPO / "checker" / "README.md", REPO / "docs" / "contract.md", REPO / "docs" / "capabilities.md"]
    links = 0
    for file in linking:
        for target, anchor in re.findall(r"\]\(([^)#]*pitfalls\.md)#([^)]+)\)", file.read_text(encoding="utf-8")):
            links += 1
            assert (file.parent / target).resolve() == (REPO / "docs" / "pitfalls.md").resolve(), (file, target)
            assert anchor in anchors, (file, anchor)
    assert links > 100
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page):  # the catalogue's own links: rule pages, docs
        assert (REPO / "docs" / target).is_file(), f"docs/pitfalls.md: broken link {target}"
    for anchor in re.findall(r"\]\(#([^)]+)\)", page):
        assert anchor in anchors, f"docs/pitfalls.md: no anchor {anchor}"
    assert "[O20](../pitfalls.md#o20) init skipped" in (REPO / "docs" / "rules" / "MFX212.md").read_text(encoding="utf-8")


def test_unknown_id_fails_the_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A rule declaring an id the catalogue lacks stops the generator (exit 2, names it)."""
    from mfx import ruledocs

    class Fake:
        name, pitfalls = "fake-rule", ("O20", "O42")

    monkeypatch.setattr(ruledocs, "rules_by_code", lambda: {"MFX998": Fake})
    monkeypatch.setattr(pitfalls_doc, "OUT", tmp_path / "pitfalls.md")
    assert pitfalls_doc.main(["--check"]) == 2
    assert not (tmp_path / "pitfalls.md").exists()


# -- mfx pitfall -------------------------------------------------------------------------------


def test_mfx_pitfall_prints_an_entry(tmp_path: Path):
    res = run_inprocess(["pitfall", "o20"], tmp_path)
    assert res.code == 0, res.err
    assert res.out.startswith("O20. init skipped, re-run, or custom start/end ignored")
    assert "MFX212 literal-start-end-step" in res.out and "MFX213" in res.out and "docs/pitfalls.md#o20" in res.out
    assert "split-in-branch" in res.out  # a compliance capability that checks it
    listing = run_inprocess(["pitfall", "--all"], tmp_path)
    assert listing.code == 0 and listing.out.count("\n") == 60 and "B28 " in listing.out
    bad = run_inprocess(["pitfall", "O99"], tmp_path)
    assert bad.code == 2 and "unknown pitfall id 'O99'" in bad.err and "Traceback" not in bad.err
    assert run_inprocess(["pitfall"], tmp_path).code == 2
