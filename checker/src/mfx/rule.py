"""The rule API: what a lint rule is, how it reports, and how it carries its own examples.

A rule is one class in one module under ``mfx.rules`` (``mfx rule new`` writes the skeleton;
docs/lint/adding-a-rule.md). One shape per scope, all deriving from :class:`RuleBase`, each with
one method to implement:

* :class:`Rule` looks at one file: ``check(file)`` yields :class:`Report` s (build them with
  ``self.report(node)``). ``file`` is the :class:`~mfx.engine.context.FileContext` (path, source,
  libcst module, ``nodes(kind, within=...)``, ``parent_of(node)``). Node visitors are optional:
  a rule that prefers them writes libcst ``visit_<Node>`` / ``leave_<Node>`` methods (a
  :class:`Rule` is a libcst ``BatchableCSTVisitor``) and calls ``self.report``; the rules of a
  file that have visitors run in one traversal, libcst's own ``visit_batched``.
* :class:`ProjectRule` needs several files at once (for example the registration tuple in
  ``mfextinit_x.py`` against the ``TYPE`` in another module): ``check(project)`` yields reports
  with ``path`` set; ``project`` is the :class:`~mfx.engine.context.ProjectContext`.
* :class:`mfx.projectfiles.base.ProjectFileRule` reports in project files (``pyproject.toml``,
  CI workflows), not Python: ``check_file(file)``.

Parents, enclosing scopes and name resolution come from the file's index
(``file.parent_of(node)``, :mod:`mfx.engine.index`) and the shared analyses (:mod:`mfx.analysis`),
not from libcst's metadata providers, which cost several parses. An analysis that several rules
share keeps its result per file (``file.cached(key, build)``) or per project
(``project.cached(key, build)``), never in a module-level cache.

The class docstring is the user documentation, in ruff's sections::

    ## What it does
    ## Why is this bad?
    ## Example
    ## Use instead
    ## Fix safety        (only for rules with a fix)

``VALID`` and ``INVALID`` are run by the test suite: every VALID example must produce no
diagnostic of this rule, every INVALID example at least one (exactly ``count`` if given; at the
given ``line``/``column``, with ``message`` in its text, in file ``path``, when those are given),
and an INVALID with ``fixed`` must turn into ``fixed`` when the fix is applied.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar, Iterable, Mapping, Sequence, Union

import libcst as cst

from mfx.applicability import ALWAYS, Applicability, Triggers

if TYPE_CHECKING:  # pragma: no cover
    from mfx.engine.context import FileContext, ProjectContext

#: An example is a single file's source, or several files as ``{relative path: source}``.
Source = Union[str, Mapping[str, str]]


@dataclasses.dataclass(frozen=True)
class Fix:
    """Replace ``node`` with ``replacement`` (a libcst node, or ``cst.RemovalSentinel.REMOVE``)."""

    node: cst.CSTNode
    replacement: object
    applicability: Applicability = Applicability.SAFE
    title: str = ""


@dataclasses.dataclass(frozen=True)
class Report:
    """What a rule reports before the engine turns it into a located diagnostic."""

    node: cst.CSTNode | None
    message: str
    fix: Fix | None = None
    path: str | None = None  # ProjectRule only: the file the node belongs to
    line: int | None = None  # ProjectRule only, when there is no node: 1-based
    column: int | None = None  # 1-based
    #: With ``node`` a string literal: ``(word, k)`` reports the ``k``-th (0-based) occurrence of
    #: ``word`` in the literal's source (a command piece inside a multi-line string), not its start.
    word: tuple[str, int] | None = None


#: The stand-in source of the ``Valid``/``Invalid`` examples ``mfx rule new`` writes. The example
#: test (:func:`mfx.testing.check_examples`) fails on it until it is replaced by a real example.
PLACEHOLDER = "# TODO(mfx rule new): replace with a real example\n"


@dataclasses.dataclass(frozen=True)
class Valid:
    source: Source
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Invalid:
    """An example the rule must flag. ``line``/``column`` (1-based, as ``mfx check`` prints them),
    ``message`` (a substring of the finding's message) and ``path`` (which file of a multi-file
    example) pin where and what: some finding of the rule must match every one of them given."""

    source: Source
    count: int | None = None  # exact number of diagnostics expected, if given
    fixed: Source | None = None  # expected source after applying the fix
    note: str = ""
    line: int | None = None
    column: int | None = None
    message: str | None = None
    path: str | None = None

    @property
    def pinned(self) -> bool:
        """Whether the example says where (or with what message) the finding is."""
        return any(v is not None for v in (self.line, self.column, self.message, self.path))

    def matches(self, line: int, column: int, message: str, path: str) -> bool:
        return (
            (self.line is None or line == self.line)
            and (self.column is None or column == self.column)
            and (self.message is None or self.message in message)
            and (self.path is None or path == self.path)
        )

    def expectation(self) -> str:
        parts = [f"{self.path}:" if self.path is not None else ""]
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        elif self.column is not None:
            parts.append(f"column {self.column}")
        if self.message is not None:
            parts.append(f"message containing {self.message!r}")
        return " ".join(p for p in parts if p)


class RuleBase:
    """Class attributes every rule declares, whatever its scope."""

    #: ``MFX101``: three letters and three digits, unique.
    code: ClassVar[str]
    #: kebab-case, names the bad pattern ("deployer-kwargs-assigned"), reads as "allow <name>".
    name: ClassVar[str]
    #: The default message, short and specific; say what is wrong and how to fix it.
    message: ClassVar[str]
    #: Pitfall ids from the reference catalogue this rule detects, e.g. ("O6",).
    pitfalls: ClassVar[tuple[str, ...]] = ()
    #: Applicability of the rule's fix, or None when the rule has no fix.
    fix: ClassVar[Applicability | None] = None
    #: False when the rule checks something Metaflow's own plugins legitimately do differently
    #: (for example a convention only third-party extensions need). The quality gate that runs
    #: every rule over Metaflow's Argo / Step Functions / Kubernetes / Batch code skips such rules.
    applies_to_core: ClassVar[bool] = True
    #: Applicability pre-check (see :mod:`mfx.applicability`): words of which at least one must
    #: occur in a file's text (or package name) for the rule to be able to report in it, or
    #: ``ALWAYS``. Every per-file rule must declare it, with the soundness argument next to it
    #: (``None``, undeclared, runs everywhere and fails the test suite).
    TRIGGERS: ClassVar[Triggers | None] = None
    #: If not empty, the rule can only report in files with one of these base names.
    FILE_NAMES: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[Sequence[Valid]] = ()
    INVALID: ClassVar[Sequence[Invalid]] = ()


class _Reporting:
    """``self.report`` for every Python rule shape."""

    message: ClassVar[str]

    def __init__(self) -> None:
        self.reports: list[Report] = []

    def report(
        self,
        node: cst.CSTNode | None,
        message: str | None = None,
        *,
        fix: Fix | None = None,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> Report:
        """A :class:`Report` at ``node`` (default message: the rule's ``message``). It is
        recorded, so a visitor method or a helper may call it without returning it; ``check``
        may ``yield`` it as well (a report is never counted twice)."""
        rep = Report(node=node, message=message or self.message, fix=fix, path=path, line=line, column=column)
        self.reports.append(rep)
        return rep

    def collect(self, returned: Iterable[Report] | None) -> list[Report]:
        """What ``check`` returned or yielded plus what was recorded, each report once."""
        returned = list(returned or ())  # runs a generator, which may record reports too
        out = list(self.reports)
        seen = {id(r) for r in out}
        for rep in returned:
            if id(rep) not in seen:
                seen.add(id(rep))
                out.append(rep)
        return out


class Rule(RuleBase, _Reporting, cst.BatchableCSTVisitor):
    """A per-file rule: implement ``check(file)`` (and/or libcst visitor methods). One instance
    per file; ``self.file`` is the file too, for visitor methods."""

    def __init__(self, file: "FileContext") -> None:
        _Reporting.__init__(self)
        cst.BatchableCSTVisitor.__init__(self)
        self.file = file

    def check(self, file: "FileContext") -> Iterable[Report] | None:
        """The reports for ``file``. The default does nothing (a rule made of visitors)."""
        return ()


class ProjectRule(RuleBase, _Reporting):
    """A rule that needs several files: implement ``check(project)``; its reports say ``path``."""

    #: Project rules are not gated per file: their conditions are about the project ("a step
    #: command is built somewhere but X is never mentioned anywhere"), so every file counts.
    TRIGGERS: ClassVar[Triggers | None] = ALWAYS

    def __init__(self) -> None:
        _Reporting.__init__(self)

    def check(self, project: "ProjectContext") -> Iterable[Report]:  # pragma: no cover - interface
        raise NotImplementedError


#: Any rule class: :class:`Rule`, :class:`ProjectRule` or a project-file rule.
RuleClass = type[RuleBase]
