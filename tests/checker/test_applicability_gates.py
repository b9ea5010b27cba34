"""Applicability pre-checks are necessary conditions: a skipped file would have had no finding.

Every per-file rule declares ``TRIGGERS`` (words, one of which a file must contain) or
``ALWAYS`` (see ``mfx.applicability``); the engine skips a rule on a file without its words, and a
file with no applicable rule is only parsed. Here each rule's own INVALID examples (which do have
findings) are rewritten so that no trigger word remains, and the rule with its gate *removed*
must then find nothing either: the trigger list is complete for everything the examples
exercise. On the unchanged examples the gate never skips a file that has findings.
"""

from __future__ import annotations

import re

import pytest
from mfx.applicability import ALWAYS, FileWords, applicable
from mfx.engine.runner import all_rules, lint_sources, load_rules
from mfx.rule import Rule

FILE_RULES = [r for r in all_rules() if issubclass(r, Rule)]
GATED = [r.code for r in FILE_RULES if r.TRIGGERS not in (None, ALWAYS)]


def _rule(code: str):
    (rule,) = load_rules([code])
    return rule


def _examples(code: str) -> list[dict[str, str]]:
    """The rule's INVALID examples as ``{path: source}`` (single sources get a plain path)."""
    out = []
    for ex in _rule(code).INVALID:
        out.append({"pkg/mod.py": ex.source} if isinstance(ex.source, str) else dict(ex.source))
    return out


def _codes(sources: dict[str, str], code: str) -> list[str]:
    return [d.code for d in lint_sources(sources, load_rules([code])) if d.code == code]


def _strip(text: str, words: tuple[str, ...]) -> str:
    """``text`` with every trigger word broken (its last character replaced), repeated until
    none is left (a replacement can create another word's occurrence)."""
    for _ in range(10):
        if not any(w in text for w in words):
            return text
        for word in words:
            text = re.sub(re.escape(word), word[:-1] + ("Q" if word[-1] != "Q" else "Z"), text)
    raise AssertionError(f"could not remove {words} from the example")


def test_every_file_rule_declares_its_applicability():
    undeclared = [r.code for r in FILE_RULES if r.TRIGGERS is None]
    assert not undeclared, f"declare TRIGGERS (words or ALWAYS) on {undeclared}"
    for rule in FILE_RULES:
        if rule.TRIGGERS != ALWAYS:
            assert isinstance(rule.TRIGGERS, tuple) and rule.TRIGGERS, rule.code
            assert all(isinstance(w, str) and w for w in rule.TRIGGERS), rule.code


def test_most_rules_are_gated():
    # Not a correctness property, a performance one: ALWAYS rules force every file's index.
    always = [r.code for r in FILE_RULES if r.TRIGGERS == ALWAYS and not r.FILE_NAMES]
    assert always == [], always


@pytest.mark.parametrize("code", GATED)
def test_invalid_examples_are_not_skipped(code):
    examples = _examples(code)
    assert examples
    for sources in examples:
        assert code in _codes(sources, code)


@pytest.mark.parametrize("code", GATED)
def test_without_trigger_words_the_ungated_rule_finds_nothing(code, monkeypatch):
    rule = _rule(code)
    words = rule.TRIGGERS
    monkeypatch.setattr(rule, "TRIGGERS", ALWAYS)  # the gate removed: only the analysis decides
    for sources in _examples(code):
        assert code in _codes(sources, code)  # the ungated rule does fire on the example
        stripped = {path: _strip(text, words) for path, text in sources.items()}
        assert _codes(stripped, code) == [], stripped


def test_string_escapes_disable_the_gates():
    """A string value may spell a trigger word with escapes: such files are never skipped."""
    words = FileWords('cmd = ["--retry-\\x63ount", "1"]\n', "pkg", "pkg/mod.py")
    assert words.escaped
    assert applicable(("--retry-count",), words)
    plain = FileWords('cmd = ["--retry-co", "1"]\n', "pkg", "pkg/mod.py")
    assert not plain.escaped
    assert not applicable(("--retry-count",), plain)


@pytest.mark.parametrize(
    "source",
    [
        'cmd = ["--retry-" "count", "1"]\n',
        'cmd = ("--retry"  # the option\n       "-count")\n',
        "cmd = f'--retry-' f'count'\n",
        'cmd = ["--retry-c" \\\n    "ount"]\n',
    ],
)
def test_implicitly_concatenated_literals_disable_the_gates(source):
    """Adjacent literals are joined: two halves of a word in two literals count as the word."""
    words = FileWords(source, "pkg", "pkg/mod.py")
    assert words.escaped and applicable(("--retry-count",), words)


@pytest.mark.parametrize("source", ['x = ""\n', "s = 'a\\n' 'B'\n", 'f(a, "b")\n', "d = {'k': 'v'}\n"])
def test_literals_that_cannot_join_a_word_keep_the_gates(source):
    assert not FileWords(source, "pkg", "pkg/mod.py").escaped


def test_file_names_restrict_a_rule():
    words = FileWords("x = 1\n", "", "ci/noxfile.py")
    assert applicable(ALWAYS, words, ("noxfile.py",))
    assert not applicable(ALWAYS, FileWords("x = 1\n", "", "ci/other.py"), ("noxfile.py",))


def test_a_file_without_applicable_rules_still_reports_syntax_errors():
    found = lint_sources({"pkg/mod.py": "def f(:\n"}, load_rules(["MFX201"]))
    assert [d.code for d in found] == ["MFX000"]
