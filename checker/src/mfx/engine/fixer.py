"""``--fix`` / ``--diff``: apply fixes in passes until nothing changes (at most 10 passes).

Everything happens in memory; files are written once at the end (never for ``--diff``). A fix
that would leave a file unparsable is not applied; it is reported as ``MFX999`` naming the rule,
because a fix that breaks code is a bug in that rule.
"""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Sequence

from mfx.applicability import Applicability
from mfx.config import Settings
from mfx.discovery import relative_to_root
from mfx.engine.diagnostic import Diagnostic, apply_fixes
from mfx.engine.lint import RunResult, lint_texts, read_error
from mfx.engine.sources import SourceFile, encode
from mfx.registry import INTERNAL_ERROR_CODE, INTERNAL_ERROR_NAME

MAX_PASSES = 10


@dataclasses.dataclass
class FixOutcome:
    result: RunResult  # what remains after fixing
    original: dict[str, str]
    fixed: dict[str, str]  # only files whose text changed
    fixed_counts: dict[str, collections.Counter]  # relpath -> Counter of fixed codes

    @property
    def total_fixed(self) -> int:
        return sum(sum(c.values()) for c in self.fixed_counts.values())


def is_applicable(d: Diagnostic, unsafe: bool) -> bool:
    return d.fix is not None and (unsafe or d.fix.applicability == Applicability.SAFE)


def _parses(text: str) -> bool:
    import libcst as cst

    try:
        cst.parse_module(text)
        return True
    except Exception:
        return False


def fix_paths(files: Sequence[Path], settings: Settings, *, unsafe: bool, write: bool) -> FixOutcome:
    sources: dict[str, SourceFile] = {}
    errors: list[Diagnostic] = []
    texts: dict[str, str] = {}
    for path in files:
        relpath = relative_to_root(path, settings.root)
        src = SourceFile(path)
        sources[relpath] = src
        if src.error is not None:
            errors.append(read_error(relpath, src.error))
        else:
            texts[relpath] = src.text
    original = dict(texts)
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    rejected: set[tuple[str, str]] = set()
    diagnostics = lint_texts(texts, settings)
    for _ in range(MAX_PASSES):
        by_file: dict[str, list[Diagnostic]] = collections.defaultdict(list)
        for d in diagnostics:
            if is_applicable(d, unsafe) and (d.path, d.code) not in rejected and d.path in texts:
                by_file[d.path].append(d)
        changed = False
        for relpath, fixable in by_file.items():
            new_text, applied = apply_fixes(texts[relpath], fixable)
            if new_text == texts[relpath]:
                continue
            if not _parses(new_text):
                for d in applied:
                    rejected.add((relpath, d.code))
                    errors.append(_broken_fix(d))
                continue
            texts[relpath] = new_text
            counts[relpath].update(d.code for d in applied)
            changed = True
        if not changed:
            break
        diagnostics = lint_texts(texts, settings)
    fixed = {p: t for p, t in texts.items() if t != original[p]}
    if write:
        for relpath, text in fixed.items():
            src = sources[relpath]
            src.path.write_bytes(encode(text, src.encoding, src.bom))
    result = RunResult(
        root=settings.root,
        files=sorted(sources),
        diagnostics=sorted(diagnostics + _dedupe(errors), key=lambda d: d.sort_key),
        sources=sources,
    )
    for relpath, text in texts.items():  # later output (snippets) shows the fixed text
        sources[relpath].text = text
    return FixOutcome(result=result, original=original, fixed=fixed, fixed_counts=dict(counts))


def _broken_fix(d: Diagnostic) -> Diagnostic:
    return Diagnostic(
        INTERNAL_ERROR_CODE,
        INTERNAL_ERROR_NAME,
        f"internal error in rule {d.code} ({d.name}): its fix would leave the file unparsable, so it was "
        "not applied; please report it",
        d.path,
        d.line,
        d.column,
        d.end_line,
        d.end_column,
    )


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.path, d.code, d.line, d.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
