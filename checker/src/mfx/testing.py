"""Run a rule's own VALID / INVALID examples (used by the test suite: tests/checker/test_rule_examples.py)."""

from __future__ import annotations

import textwrap
from typing import Mapping

from mfx.engine.diagnostic import apply_edits
from mfx.engine.runner import lint_sources
from mfx.rule import PLACEHOLDER, RuleClass, Source

#: What ``mfx rule new`` writes where the author still has to write something.
TODO_MARKER = "TODO(mfx rule new)"


def _placeholders(source: Source) -> bool:
    texts = [source] if isinstance(source, str) else list(source.values())
    return any(t == PLACEHOLDER or TODO_MARKER in t for t in texts)


def unfinished(rule: RuleClass) -> list[str]:
    """What ``mfx rule new`` left for the author to write and is still there."""
    problems = []
    where = [("docstring", rule.__doc__ or ""), ("message", rule.message or "")]
    for label, text in where:
        if TODO_MARKER in text:
            problems.append(f"{rule.code}: the {label} still holds {TODO_MARKER} placeholders")
    for kind, examples in (("VALID", rule.VALID), ("INVALID", rule.INVALID)):
        for i, ex in enumerate(examples):
            if _placeholders(ex.source):
                problems.append(f"{rule.code} {kind}[{i}]: a placeholder; write a real example")
    return problems


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
    problems = unfinished(rule)
    if not rule.VALID or not rule.INVALID:
        problems.append(f"{rule.code}: needs at least one VALID and one INVALID example")
    for i, ex in enumerate(rule.VALID):
        if _placeholders(ex.source):
            continue
        got = findings(rule, ex.source)
        if got:
            problems.append(f"{rule.code} VALID[{i}] ({ex.note}): unexpected {[(d.line, d.message) for d in got]}")
    for i, ex in enumerate(rule.INVALID):
        if _placeholders(ex.source):
            continue
        got = findings(rule, ex.source)
        if not got:
            problems.append(f"{rule.code} INVALID[{i}] ({ex.note}): no diagnostic")
        elif ex.count is not None and len(got) != ex.count:
            problems.append(f"{rule.code} INVALID[{i}] ({ex.note}): expected {ex.count}, got {len(got)}")
        if got and ex.pinned and not any(ex.matches(d.line, d.column, d.message, d.path) for d in got):
            seen = "; ".join(f"{d.path}:{d.line}:{d.column} {d.message!r}" for d in got)
            problems.append(f"{rule.code} INVALID[{i}] ({ex.note}): no finding at {ex.expectation()}; found {seen}")
        if ex.fixed is not None:
            fixed = apply_fixes(rule, ex.source)
            want = as_files(ex.fixed)
            for path, text in want.items():
                if fixed.get(path) != text:
                    problems.append(f"{rule.code} INVALID[{i}] fix of {path}:\n{fixed.get(path)!r}\n!=\n{text!r}")
    return problems
