"""Applicability pre-checks are necessary conditions: a skipped file would have had no finding.

Every per-file rule declares ``TRIGGERS`` (words, one of which a file must contain) or
``ALWAYS`` (see ``mfx.applicability``); the engine skips a rule on a file without its words, and a
file with no applicable rule is only parsed. Here each rule's own INVALID examples (which do have
findings) are rewritten so that no trigger word remains, and the rule with its gate *removed*
must then find nothing either: the trigger list is complete for everything the examples
exercise. On the unchanged examples the gate never skips a file that has findings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mfx.applicability import ALWAYS, FileWords, all_of, applicable, trigger_groups
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
    """``text`` with every trigger word broken, in any case (the pre-checks ignore case): its
    last letter or digit is replaced, so quotes and the syntax around it stay intact. Repeated
    until none is left (a replacement can create another word's occurrence)."""
    for _ in range(10):
        if not any(w.lower() in text.lower() for w in words):
            return text
        for word in words:
            last = max(i for i, c in enumerate(word) if c.isalnum())
            broken = word[:last] + ("Q" if word[last].upper() != "Q" else "Z") + word[last + 1 :]
            text = re.sub(re.escape(word), broken.replace("\\", "\\\\"), text, flags=re.IGNORECASE)
    raise AssertionError(f"could not remove {words} from the example")


def test_every_file_rule_declares_its_applicability():
    undeclared = [r.code for r in FILE_RULES if r.TRIGGERS is None]
    assert not undeclared, f"declare TRIGGERS (words or ALWAYS) on {undeclared}"
    for rule in FILE_RULES:
        if rule.TRIGGERS != ALWAYS:
            assert isinstance(rule.TRIGGERS, tuple) and rule.TRIGGERS, rule.code
            for group in trigger_groups(rule.TRIGGERS):
                assert group and all(isinstance(w, str) and w for w in group), rule.code


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
    groups = trigger_groups(rule.TRIGGERS)
    monkeypatch.setattr(rule, "TRIGGERS", ALWAYS)  # the gate removed: only the analysis decides
    for sources in _examples(code):
        assert code in _codes(sources, code)  # the ungated rule does fire on the example
        for words in groups:  # with all_of, each group on its own is necessary
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


def test_secret_name_words_cover_every_secret_name():
    """MFX404's words are a necessary condition of SECRET_NAME: any name it matches contains one
    of them, whatever the case (adversarial names built from the regex's own fragments)."""
    import itertools

    from mfx.analysis.security_taint import SECRET_NAME, SECRET_NAME_WORDS

    fragments = ["api", "_", "key", "access", "id", "secret", "token", "pass", "wd", "word", "auth",
                 "private", "service", "headers", "session", "client", "credential", "authorization", "x"]
    words = [w.lower() for w in SECRET_NAME_WORDS]
    checked = 0
    for n in (1, 2, 3):
        for parts in itertools.product(fragments, repeat=n):
            for name in ("".join(parts), "".join(parts).upper(), "_".join(parts).title()):
                if SECRET_NAME.search(name):
                    checked += 1
                    assert any(w in name.lower() for w in words), name
    assert checked > 100


def _lint(tmp_path, files: dict[str, str], jobs: int) -> list[tuple[str, str]]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    import contextlib
    import io
    import os

    from mfx.cli import main

    out, old = io.StringIO(), Path.cwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(out):
            main(["check", ".", "--no-cache", "-j", str(jobs), "--output-format", "json"])
    finally:
        os.chdir(old)
    return [(Path(d["filename"]).relative_to(tmp_path).as_posix(), d["code"]) for d in json.loads(out.getvalue())]


#: Generated code that names nothing any rule looks for (no quotes around rule words, no
#: credentials, no Metaflow API): what a big generated module of a published extension holds.
_GENERATED = "".join(f"def handler_{i}(a, b=3):\n    return {{'k{i}': [a, b, {i}]}}\n\n" for i in range(300))


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_no_rule_applies_to_is_never_parsed(tmp_path, monkeypatch, jobs):
    from mfx.engine import runner

    parsed: list[str] = []
    real = runner.ParsedFile.__init__

    def spy(self, path, source, module=None):
        parsed.append(path)
        real(self, path, source, module)

    monkeypatch.setattr(runner.ParsedFile, "__init__", spy)
    assert _lint(tmp_path, {"pkg/generated.py": _GENERATED, "pkg/cli.py": "import click\n"}, jobs) == []
    if jobs == 1:  # forked workers record in their own memory
        assert "pkg/generated.py" not in parsed and "pkg/cli.py" in parsed


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_skimmed_file_a_project_rule_reads_reports_its_syntax_error_once(tmp_path, jobs):
    # The registration module names no per-file rule's words; the project rules read it.
    files = {"metaflow_extensions/acme/plugins/mfextinit_acme.py": "CLIS_DESC = [(\n",
             **{f"pkg/mod{i}.py": _GENERATED for i in range(12)}}
    found = [(path, code) for path, code in _lint(tmp_path, files, jobs) if code in ("MFX000", "MFX999")]
    assert found == [("metaflow_extensions/acme/plugins/mfextinit_acme.py", "MFX000")]


def test_all_of_needs_a_word_of_each_group():
    triggers = all_of(("exit",), ("METAFLOW_EXIT_DISALLOW_RETRY", "202"))
    assert not applicable(triggers, FileWords("x = [201, 202, 203]\n", "pkg", "pkg/mod.py"))
    assert not applicable(triggers, FileWords("sys.exit(1)\n", "pkg", "pkg/mod.py"))
    assert applicable(triggers, FileWords("sys.exit(202)\n", "pkg", "pkg/mod.py"))
    assert applicable(triggers, FileWords("SYS.EXIT(metaflow_exit_disallow_retry)\n", "pkg", "pkg/mod.py"))
