"""Run a rule's own VALID / INVALID examples (used by the test suite: tests/checker/test_rule_examples.py)."""

from __future__ import annotations

import textwrap
from typing import Mapping

from mfx.engine.diagnostic import apply_edits
from mfx.engine.runner import lint_sources
from mfx.rule import RuleClass, Source


def as_files(source: Source) -> dict[str, str]:
    if isinstance(source, str):
        return {"example.py": textwrap.dedent(source).lstrip("\n")}
    return {path: textwrap.dedent(text).lstrip("\n") for path, text in source.items()}


def findings(rule: RuleClass, source: Source):
    return [d for d in lint_sources(as_files(source), [rule]) if d.code == rule.code]


def apply_fixes(rule: RuleClass, source: Source, unsafe: bool = True) -> Mapping[str, str]:
    files = as_files(source)
    out = dict(files)
    for d in findings(rule, source):
        if d.fix is None or (d.fix.applicability.value == "unsafe" and not unsafe):
            continue
        out[d.path] = apply_edits(out[d.path], list(d.fix.edits))
    return out


def check_examples(rule: RuleClass) -> list[str]:
    """Return a list of problems with the rule's examples (empty when all hold)."""
    problems = []
    if not rule.VALID or not rule.INVALID:
        problems.append(f"{rule.code}: needs at least one VALID and one INVALID example")
    for i, ex in enumerate(rule.VALID):
        got = findings(rule, ex.source)
        if got:
            problems.append(f"{rule.code} VALID[{i}] ({ex.note}): unexpected {[(d.line, d.message) for d in got]}")
    for i, ex in enumerate(rule.INVALID):
        got = findings(rule, ex.source)
        if not got:
            problems.append(f"{rule.code} INVALID[{i}] ({ex.note}): no diagnostic")
        elif ex.count is not None and len(got) != ex.count:
            problems.append(f"{rule.code} INVALID[{i}] ({ex.note}): expected {ex.count}, got {len(got)}")
        if ex.fixed is not None:
            fixed = apply_fixes(rule, ex.source)
            want = as_files(ex.fixed)
            for path, text in want.items():
                if fixed.get(path) != text:
                    problems.append(f"{rule.code} INVALID[{i}] fix of {path}:\n{fixed.get(path)!r}\n!=\n{text!r}")
    return problems
