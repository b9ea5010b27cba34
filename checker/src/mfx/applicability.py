r"""How safe a fix is, and whether a rule can apply to a file at all.

Kept apart from :mod:`mfx.rule` so that code which only reads cached results (the CLI's warm
path, the output formats) never has to import libcst.

Applicability pre-checks (:func:`mentions_any`) let a rule skip a file before any analysis. They
must be *necessary conditions*: a file that fails the check can never produce a finding of the
rule, so skipping it changes nothing but the time spent. The usual argument: the rule only
reports when a qualified name such as ``os.environ`` resolves, and mfx resolves names only by
joining identifiers written in the file (imports, attribute chains; see
``mfx.analysis.backend_names.ImportMap``), so the identifier ``environ`` must occur in the text.
Each rule (family) that uses a pre-check states its own argument next to its trigger words.

Every per-file rule declares its pre-check in ``TRIGGERS`` (see :class:`mfx.rule.Rule`): either a
tuple of words, one of which must occur in the file's text (or in its package name), or
:data:`ALWAYS` when no such necessary condition is known. The engine evaluates them once per
file, before building anything: rules whose words are absent are not even instantiated, and when
no rule is left the file is only parsed (syntax errors are still reported), its index is never
built and no visitor runs. The shared analyses (backend model, taint flows, command strings) are
computed only when a rule asks for them, so they are gated by the same words.

Two kinds of words are used, with the same argument:

* identifiers and keywords (``StepDecorator``, ``click``, ``raise``): code can only name them by
  writing them (mfx never evaluates ``getattr``/string imports);
* option spellings matched in string values (``--retry-count``): the same pre-filters the rules
  used before they were declared here. A string value could in theory spell the word through
  escape sequences (``"--retry-\x63ount"``); :func:`applicable` therefore lets every rule run on
  a file whose text contains such an escape (``\x``, ``\u``, ``\U``, ``\N{``, octal, or a
  backslash-newline). Implicitly concatenated literals are joined by the analyses too
  (``"--retry-" "count"``), so a file where a literal ending in a word character is followed by
  one starting with a word character (:data:`_SPLIT_LITERALS`, comments and line breaks in
  between included) is never skipped either. Both checks err towards running the rules: 13 of
  the 106 files of the benchmark corpus trip one of them. The identifier words need neither.
"""

from __future__ import annotations

import enum
import re
from typing import Union

#: ``TRIGGERS = ALWAYS``: the rule has no cheap necessary condition and runs on every file.
ALWAYS = "always"

#: A rule's declared pre-check: words (any one suffices) or :data:`ALWAYS`.
Triggers = Union["tuple[str, ...]", str]

_ESCAPE = re.compile(r"\\(?:[xuU0-7]|N\{|\r?\n)")
#: A literal ending in a word character or ``-`` (not one escaped by a backslash) next to a
#: literal starting with one: where implicit concatenation could join two halves of a word.
_SPLIT_LITERALS = re.compile(r"""(?<!\\)(?:\\\\)*[\w-]["'](?:\s|\\\n|#[^\n]*)*[rRbBuUfF]{0,2}["'][\w-]""")


class Applicability(str, enum.Enum):
    """How safe a fix is (ruff's vocabulary)."""

    SAFE = "safe"  # meaning and intent of the code are kept; applied by --fix
    UNSAFE = "unsafe"  # may change behaviour or drop comments; needs --unsafe-fixes


def mentions_any(text: str, words: "tuple[str, ...]") -> bool:
    """True when any of ``words`` occurs in ``text`` (a plain substring test: comments and
    strings count too, which only makes the check more permissive, never unsound)."""
    return any(word in text for word in words)


class FileWords:
    """What the pre-checks of one file look at, computed once: the text the words are searched
    in (the source plus the package name, for relative imports) and whether string escapes or
    implicitly concatenated literals may hide a word (``escaped``)."""

    __slots__ = ("text", "escaped", "basename")

    def __init__(self, source: str, package_name: str = "", path: str = "") -> None:
        self.text = source + "\n" + package_name
        self.escaped = ("\\" in source and _ESCAPE.search(source) is not None) or _SPLIT_LITERALS.search(source) is not None
        self.basename = path.replace("\\", "/").rsplit("/", 1)[-1]


def applicable(triggers: "Triggers | None", words: FileWords, file_names: "tuple[str, ...]" = ()) -> bool:
    """Whether a rule with these ``triggers`` (and, if given, restricted to files named one of
    ``file_names``) can report anything in the file. ``None`` (undeclared) counts as ALWAYS."""
    if file_names and words.basename not in file_names:
        return False
    if triggers is None or triggers == ALWAYS or words.escaped:
        return True
    return mentions_any(words.text, triggers)  # type: ignore[arg-type]
