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

Words are matched regardless of case (the file's text is lowered once): a word found only
with another case admits the file, which only makes a check more permissive. Rules whose
findings depend on names compared without case (credential names, MFX404) rely on it.

A file for which no enabled per-file rule is applicable is *skimmed*: it is never handed to
libcst (reading it and searching its words is all it costs), so a big generated module that
names nothing Metaflow's pitfalls involve costs next to nothing. Its syntax is checked only if a
project rule needs its tree (then a syntax error is reported as MFX000 as usual); otherwise
syntax errors in such a file are left to Python and ruff.

Two kinds of words are used, with the same argument:

* identifiers and keywords (``StepDecorator``, ``click``, ``raise``): code can only name them by
  writing them (mfx never evaluates ``getattr``/string imports);
* option spellings matched in string values (``--retry-count``): the same pre-filters the rules
  used before they were declared here. A string value could in theory spell the word through
  escape sequences (``"--retry-\x63ount"``); :func:`applicable` therefore lets every rule run on
  a file whose text contains such an escape (``\x``, ``\u``, ``\U``, ``\N{``, octal, or a
  backslash-newline). Implicitly concatenated literals are joined by the analyses too
  (``"--retry-" "count"``), so a file where a literal ending in a word character is followed by
  one starting with a word character (:func:`_split_literals`, comments and line breaks in
  between included) is never skipped either. Both checks err towards running the rules: 13 of
  the 106 files of the benchmark corpus trip one of them. The identifier words need neither.
"""

from __future__ import annotations

import enum
import re
from pathlib import PurePosixPath
from typing import Union

#: ``TRIGGERS = ALWAYS``: the rule has no cheap necessary condition and runs on every file.
ALWAYS = "always"



class AllOf(tuple):
    """``TRIGGERS = all_of(("exit",), ("METAFLOW_EXIT_DISALLOW_RETRY", "202"))``: a word of *each*
    group must occur (a finding needs all of them). Sharper than one group alone when each
    group's words are common by themselves (``202`` in numbered generated code)."""


def all_of(*groups: "tuple[str, ...]") -> AllOf:
    assert groups and all(isinstance(g, tuple) and g for g in groups), "all_of takes non-empty tuples of words"
    return AllOf(groups)


def trigger_groups(triggers: "Triggers") -> "tuple[tuple[str, ...], ...]":
    """The word groups of declared triggers (one group for a plain tuple of words)."""
    return tuple(triggers) if isinstance(triggers, AllOf) else (triggers,)  # type: ignore[return-value]


#: A rule's declared pre-check: words (any one suffices), :func:`all_of` groups, or :data:`ALWAYS`.
Triggers = Union["tuple[str, ...]", AllOf, str]

_ESCAPE = re.compile(r"\\(?:[xuU0-7]|N\{|\r?\n)")
#: A quote, then another literal's opening quote (comments and line breaks in between) followed by
#: a word character or ``-``: with a word character before the first quote, where implicit
#: concatenation could join two halves of a word (see :func:`_split_literals`). One pattern per
#: quote character: a pattern starting with a literal is searched with a tight loop over the
#: text, one starting with a character class tests every character against it (~2.5x slower).
_NEXT_LITERAL = re.compile(r"""["'](?:\s|\\\n|#[^\n]*)*[rRbBuUfF]{0,2}["'][\w-]""")
_NEXT_LITERAL_AFTER = tuple(
    re.compile(quote + r"""(?:\s|\\\n|#[^\n]*)*[rRbBuUfF]{0,2}["'][\w-]""") for quote in "\"'"
)
_WORD_CHAR = re.compile(r"[\w-]")


def _split_literals(source: str) -> bool:
    """Whether a literal ending in a word character or ``-`` (not one escaped by a backslash)
    stands next to a literal starting with one. Searched from the quote (a pattern starting
    with a look-behind costs ~4x as much: it is tried at every position of a big file), once
    per quote character (the matches of :data:`_NEXT_LITERAL` are the union of both)."""
    return any(_split_after(pattern, source) for pattern in _NEXT_LITERAL_AFTER)


def _split_after(pattern: "re.Pattern[str]", source: str) -> bool:
    pos = 0
    while True:
        m = pattern.search(source, pos)
        if m is None:
            return False
        i = m.start() - 1  # the last character of the first literal
        if i >= 0 and _WORD_CHAR.match(source, i):
            slashes = 0
            while i - 1 - slashes >= 0 and source[i - 1 - slashes] == "\\":
                slashes += 1
            if slashes % 2 == 0:
                return True
        pos = m.start() + 1


class Applicability(str, enum.Enum):
    """How safe a fix is (ruff's vocabulary)."""

    SAFE = "safe"  # meaning and intent of the code are kept; applied by --fix
    UNSAFE = "unsafe"  # may change behaviour or drop comments; needs --unsafe-fixes


def mentions_any(text: str, words: "tuple[str, ...]") -> bool:
    """True when any of ``words`` occurs in ``text`` (a plain substring test: comments and
    strings count too, which only makes the check more permissive, never unsound)."""
    return any(word in text for word in words)


_LOWERED: "dict[tuple[str, ...], tuple[str, ...]]" = {}


def _lowered(words: "tuple[str, ...]") -> "tuple[str, ...]":
    found = _LOWERED.get(words)
    if found is None:
        found = _LOWERED[words] = tuple(sorted({w.lower() for w in words}))
    return found


#: Texts at least this long remember which words they lack and use it (:meth:`FileWords.has`);
#: below it a plain search costs less than the bookkeeping.
_BIG_TEXT = 1 << 16

_IDENTIFIER_RUN = re.compile(r"[a-z0-9_]{3,}")
_CORES: "dict[str, tuple[str, ...]]" = {}


def _cores(word: str) -> "tuple[str, ...]":
    """The runs of identifier characters (3 or more) of a lowered word with other characters
    (``'"seconds"'`` -> ``seconds``; ``--retry-count`` -> ``retry``, ``count``), longest first:
    each is a necessary condition for the word, and variants of one word share it."""
    found = _CORES.get(word)
    if found is None:
        runs = _IDENTIFIER_RUN.findall(word)
        found = _CORES[word] = () if runs == [word] else tuple(sorted(set(runs), key=len, reverse=True))
    return found


class FileWords:
    """What the pre-checks of one file look at, computed once: the text the words are searched
    in (the source plus the package name, for relative imports; lowered) and whether string escapes or
    implicitly concatenated literals may hide a word (``escaped``).

    :meth:`has` answers a word from memory when it was searched before. In a big text it also
    answers without searching when a word it lacks is part of the word asked for (no ``exit``,
    so no ``atexit``), or when a core of the word (:func:`_cores`) is missing: a skimmed file
    lacks every word, so each search that proves one absent should prove as many as it can. Use
    :func:`file_words` to share one instance between the per-file and the project rules."""

    __slots__ = ("basename", "_source", "_package", "_lowered", "_escaped", "_known", "_absent", "_exact")

    def __init__(self, source: str, package_name: str = "", path: str = "") -> None:
        self.basename = path.replace("\\", "/").rsplit("/", 1)[-1]
        self._source = source
        self._package = package_name.lower()
        self._lowered: "str | None" = None
        self._escaped: "bool | None" = None
        self._known: "dict[str, bool]" = {}
        self._absent: "list[str]" = []
        self._exact: "dict[str, bool]" = {}

    @property
    def text(self) -> str:
        """The lowered source (computed on first use). The package name is searched apart: a
        word holds no line break, so none could span the two."""
        if self._lowered is None:
            self._lowered = self._source.lower()
        return self._lowered

    @property
    def escaped(self) -> bool:
        """Computed on first use: a file in which every rule finds its words never needs it."""
        if self._escaped is None:
            source = self._source
            self._escaped = ("\\" in source and _ESCAPE.search(source) is not None) or _split_literals(source)
        return self._escaped

    def has(self, word: str) -> bool:
        """Whether the lowered ``word`` occurs in the lowered source or package name (exactly
        ``word in (source + "\\n" + package_name).lower()`` for a word without a line break)."""
        found = self._known.get(word)
        if found is None:
            found = self._known[word] = word in self._package or self._search(word)
        return found

    def _search(self, word: str) -> bool:
        text = self.text
        if len(text) < _BIG_TEXT:
            return word in text
        for absent in self._absent:
            if absent in word:
                return False
        for core in _cores(word):
            if not self.has(core):
                return False
        found = word in text
        if not found:
            self._absent.append(word)
        return found

    def any_of(self, words: "tuple[str, ...]") -> bool:
        """Whether one of the lowered ``words`` occurs (those already known first)."""
        known = self._known
        if any(known.get(w) for w in words):
            return True
        return any(self.has(w) for w in words if w not in known)

    def mentions(self, word: str) -> bool:
        """Whether ``word`` occurs in the source as written (exactly ``word in source``). In a
        big text an ASCII word is first looked for lowered (:meth:`has`), which often knows it
        is absent without a search."""
        found = self._exact.get(word)
        if found is None:
            source = self._source
            if len(source) >= _BIG_TEXT and word.isascii() and not self.has(word.lower()):
                found = False  # ASCII letters lower one by one: no lowered word, no word
            else:
                found = word in source
            self._exact[word] = found
        return found


#: FileWords by path, reused while the same text object is asked for (:func:`file_words`).
_SHARED: "dict[str, FileWords]" = {}
_SHARED_MAX = 4096


def file_words(source: str, path: str) -> FileWords:
    """The :class:`FileWords` of the file at ``path`` (relative, ``/``; its package name is
    searched too), shared by every caller that passes the same ``source`` object (the search
    for embedded code, the per-file pre-check and the project rules' searches of one run read
    the same text): what one of them searched, the others do not search again."""
    found = _SHARED.get(path)
    if found is None or found._source is not source:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        found = _SHARED[path] = FileWords(source, ".".join(PurePosixPath(path).parts[:-1]), path)
    return found


def forget_file_words() -> None:
    """Drop the shared :class:`FileWords` (their lowered texts) at the end of a run."""
    _SHARED.clear()


def applicable(triggers: "Triggers | None", words: FileWords, file_names: "tuple[str, ...]" = ()) -> bool:
    """Whether a rule with these ``triggers`` (and, if given, restricted to files named one of
    ``file_names``) can report anything in the file. ``None`` (undeclared) counts as ALWAYS."""
    if file_names and words.basename not in file_names:
        return False
    if triggers is None or triggers == ALWAYS:
        return True
    groups = trigger_groups(triggers)
    if len(groups) > 1:
        # A group already known to be absent decides without a search: try those first.
        known = words._known
        groups = sorted(groups, key=lambda g: sum(w.lower() not in known for w in g))
    found = all(words.any_of(_lowered(group)) for group in groups)  # type: ignore[arg-type]
    return found or words.escaped
