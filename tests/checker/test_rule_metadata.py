"""Every rule is documented and named the way the docs generator and users rely on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mfx import pitfalls as catalogue
from mfx.engine import runner
from mfx.engine.runner import all_rules
from mfx.projectfiles.base import ProjectFileRule, ProjectFilesContext
from mfx.registry import ENGINE_CODES, rule_modules
from mfx.rule import ProjectRule, Rule, RuleBase
from mfx.ruledocs import FIX_SECTION, REQUIRED_SECTIONS, docstring, sections

RULES = all_rules()

#: Known gaps in rules, reported to their authors; remove an entry when it is fixed (the test
#: then runs strictly again). Keyed by (code, check).
KNOWN_GAPS: dict = {}


def test_every_rule_module_loads():
    assert runner.LOAD_ERRORS == {}


def test_codes_and_names_unique():
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(codes) == len(set(codes)), "duplicate rule codes"
    assert len(names) == len(set(names)), "duplicate rule names"
    assert not set(codes) & set(ENGINE_CODES), "MFX000 and MFX999 belong to the engine"
    assert set(codes) == set(rule_modules()), "one rule class per mfxNNN_*.py module"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_shape(rule):
    assert re.fullmatch(r"MFX\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), "kebab-case name"
    module = rule.__module__.rsplit(".", 1)[-1]
    assert module == f"{rule.code.lower()}_{rule.name.replace('-', '_')}", "module named after code and name"
    assert issubclass(rule, RuleBase)
    assert sum(issubclass(rule, shape) for shape in (Rule, ProjectRule, ProjectFileRule)) == 1, "one shape per scope"
    assert isinstance(rule.message, str)  # may be empty when every report passes its own message
    assert not catalogue.unknown(rule.pitfalls), f"pitfall ids not in the catalogue (mfx/pitfalls.py): {rule.pitfalls}"
    assert len(set(rule.pitfalls)) == len(rule.pitfalls), "a pitfall declared twice"
    assert isinstance(rule.applies_to_core, bool)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_docstring_sections(rule):
    found = sections(docstring(rule))
    for title in REQUIRED_SECTIONS:
        assert found.get(title), f"{rule.code}: missing or empty '## {title}'"
    if bool(found.get(FIX_SECTION)) != (rule.fix is not None) and (rule.code, "fix-section") in KNOWN_GAPS:
        pytest.xfail(KNOWN_GAPS[(rule.code, "fix-section")])
    assert bool(found.get(FIX_SECTION)) == (rule.fix is not None), f"{rule.code}: '## {FIX_SECTION}' iff the rule has a fix"
    if rule.fix is not None:
        assert any(ex.fixed is not None for ex in rule.INVALID), f"{rule.code}: a fix needs an INVALID example with `fixed`"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_declares_exactly_the_pitfalls_its_docs_explain(rule):
    """A rule declares only the pitfalls whose root cause it detects, and its docs say which:
    the ids its docstring and message cite are exactly the declared ones, and each declared one
    is cited where the docs explain the harm ("Why is this bad?")."""
    doc = docstring(rule)
    assert set(catalogue.cited(doc + " " + rule.message)) == set(rule.pitfalls), (
        f"{rule.code}: the docs cite {sorted(set(catalogue.cited(doc + ' ' + rule.message)))}, "
        f"the rule declares {list(rule.pitfalls)}"
    )
    why = sections(doc).get("Why is this bad?", "")
    assert set(catalogue.cited(why)) >= set(rule.pitfalls), f"{rule.code}: explain each declared pitfall in 'Why is this bad?'"


def test_families_are_documented():
    text = (Path(runner.__file__).parents[1] / "rules" / "__init__.py").read_text()
    for rule in RULES:
        assert f"MFX{rule.code[3]}xx" in text, f"{rule.code}: family MFX{rule.code[3]}xx is not described"


def test_each_scope_has_its_own_base_and_constructor():
    """A project-file rule is not a ProjectRule: each base's constructor takes its own context,
    and the engine gives each rule the context of its scope (a subclass cannot break another's)."""
    from mfx.engine.context import ProjectContext

    assert not issubclass(ProjectFileRule, ProjectRule) and not issubclass(ProjectRule, ProjectFileRule)
    shapes = {
        Rule: [r for r in RULES if issubclass(r, Rule)],
        ProjectRule: [r for r in RULES if issubclass(r, ProjectRule)],
        ProjectFileRule: [r for r in RULES if issubclass(r, ProjectFileRule)],
    }
    assert all(shapes.values()), {k.__name__: len(v) for k, v in shapes.items()}
    project = ProjectContext(files={})
    for rule in shapes[ProjectRule]:
        # check(project) gets the project; the constructor nothing
        assert rule().reports == [] and list(rule().check(project)) == []
    files = ProjectFilesContext(files={}, texts={})
    for rule in shapes[ProjectFileRule]:
        assert rule(files).context is files and list(rule(files).check()) == []


def test_no_libcst_metadata_machinery_left():
    """Rules read parents and names from the file index and mfx.analysis, never from libcst
    metadata providers: nothing declares METADATA, and the engine resolves no provider but positions."""
    import mfx.rule as api

    assert not hasattr(api, "Metadata") and not hasattr(runner, "LazyMetadata")
    for rule in RULES:
        assert not hasattr(rule, "METADATA"), rule.code
        assert getattr(rule, "METADATA_DEPENDENCIES", ()) == (), rule.code
