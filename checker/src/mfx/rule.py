"""The rule API: what a lint rule is, how it reports, and how it carries its own examples.

A rule is one class in one module under ``mfx.rules`` (``mfx rule new`` writes the skeleton;
docs/lint/adding-a-rule.md). One shape per scope, all deriving from :class:`RuleBase`:

* :class:`Rule` looks at one file. It is a libcst batchable visitor: write ``visit_<Node>`` /
  ``leave_<Node>`` methods and call :meth:`Rule.report`. All enabled per-file rules of a file run
  in one batched dispatch over its tree, so a rule must not traverse the tree itself unless it
  needs a second, local walk (``self.context.nodes(kind, within=node)`` is a fast search).
* :class:`ProjectRule` needs several files at once (for example the registration tuple in
  ``mfextinit_x.py`` against the ``TYPE`` in another module). Implement :meth:`ProjectRule.check`.
* :class:`mfx.projectfiles.base.ProjectFileRule` reports in project files (``pyproject.toml``,
  CI workflows), not Python: implement ``check_file``.

Parents, enclosing scopes and name resolution come from the file's index
(``self.context.parent_of(node)``, :mod:`mfx.engine.index`) and the shared analyses
(:mod:`mfx.analysis`), not from libcst's metadata providers, which cost several parses.

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


class Rule(cst.BatchableCSTVisitor, RuleBase):
    """A per-file rule. Instantiated once per file with that file's context."""

    def __init__(self, context: "FileContext") -> None:
        super().__init__()
        self.context = context
        self.reports: list[Report] = []

    # -- reporting -----------------------------------------------------------------------
    def report(self, node: cst.CSTNode, message: str | None = None, *, fix: Fix | None = None) -> None:
        self.reports.append(Report(node=node, message=message or self.message, fix=fix))


class ProjectRule(RuleBase):
    """A rule that needs several files. ``check`` yields :class:`Report`s with ``path`` set."""

    #: Project rules are not gated per file: their conditions are about the project ("a step
    #: command is built somewhere but X is never mentioned anywhere"), so every file counts.
    TRIGGERS: ClassVar[Triggers | None] = ALWAYS

    def __init__(self, context: "ProjectContext") -> None:
        self.context = context

    def check(self) -> Iterable[Report]:  # pragma: no cover - interface
        raise NotImplementedError


#: Any rule class: :class:`Rule`, :class:`ProjectRule` or a project-file rule.
RuleClass = type[RuleBase]
