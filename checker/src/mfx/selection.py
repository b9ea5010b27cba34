"""Which rules are enabled: ruff's select / extend-select / ignore semantics over layers.

A layer is one source of options (``[tool.mfx]``, then the command line). In each layer a
selector matches every code it is a prefix of (``ALL``, ``MFX``, ``MFX1``, ``MFX101``); for each
code the most specific matching selector of the layer decides, and on a tie ``ignore`` wins. A
layer with its own ``select`` starts from nothing; a layer without one starts from the result
of the layer before it. The first layer starts from every rule.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from typing import Iterable, Mapping, Sequence

from mfx.errors import UsageError
from mfx.registry import ENGINE_CODES

_SELECTOR_RE = re.compile(r"^(ALL|MFX\d{0,3})$")


@dataclasses.dataclass(frozen=True)
class Layer:
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def normalize_selector(raw: str, known: Sequence[str], origin: str) -> str:
    """Upper-case and validate a selector; a selector that matches no rule is a usage error."""
    selector = raw.strip().upper()
    if not _SELECTOR_RE.match(selector):
        raise UsageError(f"invalid rule selector {raw!r} in {origin} (expected ALL, MFX, MFX1, MFX101, ...)")
    if selector != "ALL" and not any(code.startswith(selector) for code in known):
        raise UsageError(f"unknown rule selector {raw!r} in {origin}: no rule code starts with it")
    return selector


def _specificity(code: str, selectors: Iterable[str]) -> int:
    best = -1
    for sel in selectors:
        if sel == "ALL":
            best = max(best, 0)
        elif code.startswith(sel):
            best = max(best, len(sel))
    return best


def resolve(known: Sequence[str], layers: Sequence[Layer]) -> list[str]:
    """The enabled codes, sorted. Engine codes (MFX000, MFX999) are always enabled."""
    enabled = set(known)
    for layer in layers:
        nxt = set()
        for code in known:
            chosen = code in enabled if layer.select is None else False
            on = max(_specificity(code, layer.select or ()), _specificity(code, layer.extend_select))
            off = _specificity(code, layer.ignore)
            if on >= 0 or off >= 0:
                chosen = on > off  # the more specific selector decides; a tie goes to ignore
            if chosen:
                nxt.add(code)
        enabled = nxt
    enabled.update(ENGINE_CODES)
    return sorted(c for c in enabled if c in known or c in ENGINE_CODES)


def matches_any(selectors: Iterable[str], code: str) -> bool:
    return _specificity(code, selectors) >= 0


@dataclasses.dataclass(frozen=True)
class PerFileIgnores:
    """``{glob: selectors}``; a glob without ``/`` also matches the file's base name."""

    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def build(cls, mapping: Mapping[str, Sequence[str]], known: Sequence[str], origin: str) -> "PerFileIgnores":
        entries = []
        for pattern, codes in mapping.items():
            if isinstance(codes, str):
                codes = [codes]
            if not isinstance(codes, (list, tuple)) or not all(isinstance(c, str) for c in codes):
                raise UsageError(f"per-file-ignores[{pattern!r}] in {origin} must be a list of rule codes")
            entries.append(
                (pattern, tuple(normalize_selector(c, known, f"{origin} per-file-ignores") for c in codes))
            )
        return cls(tuple(entries))

    def ignored_for(self, relpath: str) -> tuple[str, ...]:
        base = relpath.rsplit("/", 1)[-1]
        out: list[str] = []
        for pattern, codes in self.entries:
            negate = pattern.startswith("!")
            pat = pattern[1:] if negate else pattern
            hit = fnmatch.fnmatchcase(relpath, pat) or ("/" not in pat and fnmatch.fnmatchcase(base, pat))
            if hit != negate:
                out.extend(codes)
        return tuple(out)
