"""Run rules over sources: parse once, batch per-file rules, then project rules.

A crashing rule never kills a run: its exception becomes one ``MFX999 internal-error``
diagnostic naming the rule, and the other rules' findings for the file are kept.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import traceback
import warnings
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from mfx.engine import profile
from mfx.engine.context import FileContext, ProjectContext
from mfx.engine.diagnostic import Diagnostic, Edit, FixEdit
from mfx.engine.index import indexing
from mfx.registry import (
    INTERNAL_ERROR_CODE,
    INTERNAL_ERROR_NAME,
    SYNTAX_ERROR_CODE,
    SYNTAX_ERROR_NAME,
    rule_modules,
)
from mfx.rule import Applicability, ProjectRule, Report, Rule, RuleBase, RuleClass

__all__ = [
    "SYNTAX_ERROR_CODE",
    "SYNTAX_ERROR_NAME",
    "INTERNAL_ERROR_CODE",
    "all_rules",
    "load_rules",
    "ParsedFile",
    "syntax_error",
    "internal_error",
    "lint_sources",
    "run_file_rules",
    "run_project_rules",
]

PARSE_ERRORS = (cst.ParserSyntaxError, SyntaxError, ValueError, RecursionError)


def _no_validation(self) -> None:
    """Stands in for ``CSTNode.__post_init__`` while libcst's parser builds a tree."""


def parse_module(source: str) -> cst.Module:
    """``libcst.parse_module`` without re-validating every node the parser builds.

    Each node's dataclass ``__init__`` calls ``CSTNode.__post_init__``, which runs the node's
    ``_validate()`` (parenthesis balance, required whitespace...): checks of hand-built trees,
    which libcst's parser output always passes (it is built from source that parsed). libcst's
    own comment there calls it a cost to move; on the benchmark corpus it is ~12 % of the parse.
    The hook is swapped only for the parser's call and restored after it; nodes built anywhere
    else (rules, fixes) are validated as usual. ``tests/checker/test_libcst_private_api.py``
    guards the hook and checks that the trees are equal to validated ones."""
    node = cst.CSTNode
    validate = node.__dict__.get("__post_init__")
    if validate is None:  # not the libcst this was written for: parse as libcst does
        return cst.parse_module(source)
    node.__post_init__ = _no_validation  # type: ignore[method-assign]
    try:
        return cst.parse_module(source)
    finally:
        node.__post_init__ = validate  # type: ignore[method-assign]


def _rule_classes(module) -> list[RuleClass]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, RuleBase)
        and value.__module__ == module.__name__
        and getattr(value, "code", None)
    ]


#: ``{module name: "ExcType: message"}`` for rule modules that failed to import. Such a rule is
#: skipped (the others still run) and the CLI reports it and exits 2.
LOAD_ERRORS: dict[str, str] = {}


def _import_rule_module(name: str):
    try:
        return importlib.import_module(f"mfx.rules.{name}")
    except Exception as exc:  # a broken rule module must not stop the other rules
        LOAD_ERRORS[name] = f"{type(exc).__name__}: {exc}"
        return None


@lru_cache(maxsize=None)
def all_rules() -> tuple[RuleClass, ...]:
    """Every rule class in ``mfx.rules``, sorted by code."""
    import mfx.rules

    found: list[RuleClass] = []
    for info in pkgutil.iter_modules(mfx.rules.__path__):
        module = _import_rule_module(info.name)
        if module is not None:
            found.extend(_rule_classes(module))
    return tuple(sorted(found, key=lambda r: r.code))


def load_rules(codes: Iterable[str]) -> tuple[RuleClass, ...]:
    """The rule classes for ``codes``, importing only their modules (engine codes are skipped).

    Remembered per set of codes: the engine asks once per linted file."""
    return _load_rules(frozenset(codes))


@lru_cache(maxsize=64)
def _load_rules(wanted: frozenset[str]) -> tuple[RuleClass, ...]:
    modules = rule_modules()
    found: list[RuleClass] = []
    for code in sorted(wanted):
        name = modules.get(code)
        if name is None:
            continue
        module = _import_rule_module(name)
        if module is None:
            continue
        for cls in _rule_classes(module):
            if cls.code in wanted and cls not in found:
                found.append(cls)
    return tuple(sorted(found, key=lambda r: r.code))


class ParsedFile:
    """A file parsed once; metadata is resolved on demand and cached on the wrapper."""

    def __init__(self, path: str, source: str, module: cst.Module | None = None) -> None:
        self.path = path
        self.source = source
        if module is None:
            with profile.phase("parse"):
                module = parse_module(source)
        self.module = module
        self.wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.context = FileContext(path=path, source=source, module=self.module)
        self._positions = None
        self._ranges: dict[int, object] = {}

    def prepare_ranges(self, nodes: Iterable[cst.CSTNode | None]) -> None:
        """Compute the ranges of ``nodes`` in one code-generation pass (see
        :mod:`mfx.engine.positions`); :meth:`range_of` then answers from memory."""
        missing = [n for n in nodes if n is not None and id(n) not in self._ranges]
        if missing:
            from mfx.engine.positions import locate_in_source

            with profile.phase("positions"):
                self._ranges.update(locate_in_source(self.module, self.source, missing, self.context.parent_of))

    def range_of(self, node: cst.CSTNode):
        """The ``CodeRange`` of ``node`` (PositionProvider's syntactic range)."""
        found = self._ranges.get(id(node))
        if found is None:
            self.prepare_ranges([node])
            found = self._ranges.get(id(node))
        if found is None:  # not a node of this tree: PositionProvider raises the usual KeyError
            return self.positions[node]
        return found

    @property
    def positions(self):
        if self._positions is None:
            with profile.phase("positions"):
                self._positions = self.wrapper.resolve(PositionProvider)
        return self._positions


def syntax_error(path: str, exc: BaseException, source: str | None = None) -> Diagnostic:
    """A file that does not parse. When CPython rejects the source too, its position and
    message are used: they point at the real mistake, libcst's often at the next token."""
    line = getattr(exc, "raw_line", None) or getattr(exc, "lineno", None) or 1
    col = (getattr(exc, "raw_column", None) or 0) + 1
    if isinstance(exc, RecursionError):
        message = "too deeply nested to parse"
    else:
        message = getattr(exc, "message", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        message = re.sub(r"^parser error: error at \d+:\d+: ", "", message)
    if source is not None and not isinstance(exc, RecursionError):
        py = _cpython_error(source)
        cpython_knows = py is not None and not ("\0" in source and _NUL_MESSAGE.search(py[2]))
        if cpython_knows:
            line, col, message = py
        elif "\0" in source and _NUL_MESSAGE.search(message):
            # CPython rejects any NUL without a position, libcst says 1:1: point at the first NUL
            # (unless libcst stopped earlier, on a mistake of its own: then its position stands).
            line, col = _position_of(source, source.index("\0"))
            message = py[2] if py is not None else message
    return Diagnostic(
        code=SYNTAX_ERROR_CODE,
        name=SYNTAX_ERROR_NAME,
        message=f"SyntaxError: {message}",
        path=path,
        line=int(line),
        column=int(col),
        end_line=int(line),
        end_column=int(col),
    )


_NUL_MESSAGE = re.compile(r"null byte|'\\0'|\\x00")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _position_of(source: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset; lines end at \\n, \\r\\n or a lone \\r (as
    Python's tokenizer, libcst and ruff count them)."""
    before = source[:offset]
    breaks = list(_NEWLINE.finditer(before))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, offset - start + 1


def _cpython_error(source: str) -> tuple[int, int, str] | None:
    try:
        with warnings.catch_warnings():  # e.g. "'int' object is not callable" SyntaxWarnings
            warnings.simplefilter("ignore")
            compile(source, "<mfx>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return exc.lineno or 1, max(1, exc.offset or 1), exc.msg or "invalid syntax"
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def internal_error(path: str, rule: RuleClass | None, exc: BaseException, line: int = 1, column: int = 1) -> Diagnostic:
    """An exception inside the engine or a rule, as a diagnostic (never a traceback)."""
    where = f"rule {rule.code} ({rule.name})" if rule is not None else "the mfx engine"
    frames = traceback.extract_tb(exc.__traceback__)
    at = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    detail = (str(exc).splitlines() or [""])[0][:200]
    return Diagnostic(
        code=INTERNAL_ERROR_CODE,
        name=INTERNAL_ERROR_NAME,
        message=f"internal error in {where}: {type(exc).__name__}: {detail}{at}; please report it",
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column,
    )


def _word_at(source: str, rng, word: tuple[str, int], start, end):
    """The ``k``-th occurrence of a word inside the source range ``rng`` (1-based start and end),
    or the whole range when the source does not spell it ``k + 1`` times (escapes)."""
    text, k = word
    if not text:
        return start, end
    lines = source.splitlines(keepends=True)[rng.start.line - 1 : rng.end.line]
    if not lines:
        return start, end
    lines[-1] = lines[-1][: rng.end.column]
    first = rng.start.column
    if len(lines) == 1 and lines[0][first:].lstrip("rbufRBUF").strip("\"'") == text:
        return start, end  # the literal is the word itself: reported on the literal, as any node
    at, line_no, col = -1, rng.start.line, first
    seen = 0
    for i, line in enumerate(lines):
        pos = first if i == 0 else 0
        while True:
            pos = line.find(text, pos)
            if pos < 0:
                break
            if seen == k:
                at, line_no, col = pos, rng.start.line + i, pos
                break
            seen += 1
            pos += len(text)
        if at >= 0:
            break
    if at < 0:
        return start, end
    return (line_no, col + 1), (line_no, col + 1 + len(text))


def _locate(parsed: ParsedFile, rule: RuleClass, report: Report) -> Diagnostic:
    if report.node is not None:
        rng = parsed.range_of(report.node)
        start = (rng.start.line, rng.start.column + 1)
        end = (rng.end.line, rng.end.column + 1)
        if report.word is not None:
            start, end = _word_at(parsed.source, rng, report.word, start, end)
    else:
        start = end = (report.line or 1, report.column or 1)
    fix = None
    if report.fix is not None:
        target = parsed.range_of(report.fix.node)
        replacement = report.fix.replacement
        if isinstance(replacement, cst.CSTNode):
            content = parsed.module.code_for_node(replacement)
        elif isinstance(replacement, str):
            content = replacement
        else:  # RemovalSentinel
            content = ""
        fix = FixEdit(
            edits=(
                Edit(
                    start=(target.start.line, target.start.column + 1),
                    end=(target.end.line, target.end.column + 1),
                    content=content,
                ),
            ),
            applicability=Applicability(report.fix.applicability),
            title=report.fix.title,
        )
    return Diagnostic(
        code=rule.code,
        name=rule.name,
        message=report.message,
        path=parsed.path,
        line=start[0],
        column=start[1],
        end_line=end[0],
        end_column=end[1],
        fix=fix,
    )


def lint_sources(sources: Mapping[str, str], rules: Sequence[RuleClass] | None = None) -> list[Diagnostic]:
    """Lint ``{relative path: source}`` with ``rules`` (default: all). Never raises on bad input.

    Suppression comments are not applied here (see :mod:`mfx.engine.lint` for the full run).
    Python held in strings and code templates is linted as part of the project and reported in
    its host file, as in the full run (:mod:`mfx.engine.embedded`)."""
    from mfx.engine.embedded import find_embedded, is_code_template
    from mfx.projectfiles import is_project_file
    from mfx.projectfiles.runner import lint_project_files

    rules = all_rules() if rules is None else tuple(rules)
    file_rules = [r for r in rules if issubclass(r, Rule)]
    project_rules = [r for r in rules if issubclass(r, ProjectRule)]
    # pyproject.toml, CI workflows: their own parsers and rules (mfx.projectfiles).
    diagnostics: list[Diagnostic] = lint_project_files(sources, rules, apply_noqa=False)
    parsed: dict[str, ParsedFile] = {}
    pieces = {}
    for path, source in sources.items():
        if is_project_file(path):
            continue
        if not is_code_template(path):
            try:
                parsed[path] = ParsedFile(path, source)
            except PARSE_ERRORS as exc:
                diagnostics.append(syntax_error(path, exc, source))
                continue
        for piece in find_embedded(path, source):
            try:
                parsed[piece.path] = ParsedFile(piece.path, piece.text)
            except PARSE_ERRORS:
                continue  # CPython parses it, libcst does not: not the user's error
            pieces[piece.path] = piece
    found: list[Diagnostic] = []
    for pf in parsed.values():
        found.extend(run_file_rules(pf, file_rules))
    if project_rules and parsed:
        found.extend(run_project_rules(parsed, project_rules))
    diagnostics.extend(pieces[d.path].to_host(d) if d.path in pieces else d for d in found)
    return sorted(diagnostics, key=lambda d: d.sort_key)


# -- running the rules of one file ------------------------------------------------------------


_HAS_VISITORS: dict[type, bool] = {}


def has_visitors(cls: type) -> bool:
    """Whether a rule class defines libcst ``visit_*``/``leave_*`` methods of its own (the
    optional node-visitor shape); remembered per class."""
    found = _HAS_VISITORS.get(cls)
    if found is None:
        # What ``any(... for name in dir(cls))`` over ``getattr(cls, name)`` answered, without
        # a getattr per name of libcst's ~700 no-op visitor methods for every rule class: a
        # name resolves to the first class of the MRO that defines it, and whether that
        # definition is a real visitor is remembered per defining class.
        seen: set[str] = set()
        found = False
        for owner in cls.__mro__:
            for name, real in _own_visitors(owner).items():
                if name not in seen:
                    seen.add(name)
                    if real:
                        found = True
                        break
            if found:
                break
        _HAS_VISITORS[cls] = found
    return found


_OWN_VISITORS: dict[type, dict[str, bool]] = {}


def _own_visitors(owner: type) -> dict[str, bool]:
    """``{name: is a visitor method that does something}`` for the ``visit_*``/``leave_*``
    names ``owner`` itself defines (remembered per class)."""
    found = _OWN_VISITORS.get(owner)
    if found is None:
        found = {}
        for name in vars(owner):
            if name.startswith("visit_") or name.startswith("leave_"):
                value = getattr(owner, name)
                found[name] = callable(value) and not getattr(value, "_is_no_op", False)
        _OWN_VISITORS[owner] = found
    return found


def _culprit(exc: BaseException, instances: Sequence[Rule]) -> Rule | None:
    """The outermost rule instance on the traceback: the rule whose method raised."""
    ids = {id(i): i for i in instances}
    tb = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if id(candidate) in ids:
            return ids[id(candidate)]
        tb = tb.tb_next
    return None


def applicable_rules(pf: ParsedFile, rules: Iterable[type[Rule]]) -> list[type[Rule]]:
    """The rules among ``rules`` whose declared pre-check admits ``pf`` (checked once per file
    against its text; see :mod:`mfx.applicability`)."""
    from mfx.applicability import applicable

    words = pf.context.words
    out = [r for r in rules if applicable(r.TRIGGERS, words, r.FILE_NAMES)]
    if profile.ENABLED:
        for r in rules:
            if r not in out:
                profile.TIMES[f"count:files skipped by {r.code}"] += 1
    return out


def run_file_rules(pf: ParsedFile, rules: Iterable[type[Rule]]) -> list[Diagnostic]:
    """Run ``rules`` over one parsed file in a single traversal.

    When a rule raises, it is dropped, reported as MFX999, and the traversal is repeated with
    the other rules (fresh instances), so their findings are complete.

    Rules whose applicability pre-check fails for this file (``Rule.TRIGGERS``, see
    :mod:`mfx.applicability`) are left out before anything is built; when none is left, the
    file's index is never built and no visitor runs (it was parsed: syntax errors are known)."""
    remaining = applicable_rules(pf, rules)
    if not remaining:
        if profile.ENABLED:
            profile.TIMES["count:files without applicable rules"] += 1
        return []
    failures: list[Diagnostic] = []
    with indexing([pf.context]):
        while remaining:
            out, failed = _traverse(pf, remaining, failures)
            if failed is None:
                return failures + out  # out is empty when the traversal itself failed
            remaining = [r for r in remaining if r is not failed]
    return failures


def _traverse(
    pf: ParsedFile, rules: list[type[Rule]], failures: list[Diagnostic]
) -> tuple[list[Diagnostic], type[Rule] | None]:
    """Each rule's ``check(file)``, then one batched libcst traversal for the rules that have
    node visitors. Returns the diagnostics, or the rule that raised (then nothing)."""
    found: list[tuple[Rule, list[Report]]] = []
    visitors: list[Rule] = []
    for rule in rules:
        try:
            inst = rule(pf.context)
            with profile.phase(f"rule:{rule.code}"):
                found.append((inst, inst.collect(inst.check(pf.context))))
        except Exception as exc:
            failures.append(internal_error(pf.path, rule, exc))
            return [], rule
        if has_visitors(rule):
            visitors.append(inst)
    if visitors:
        try:
            with profile.phase("traverse (visitor rules)"):
                cst.visit_batched(pf.module, visitors)
        except Exception as exc:
            culprit = _culprit(exc, visitors)
            if culprit is None:  # the traversal itself failed: no rule can run on this file
                failures.append(internal_error(pf.path, None, exc))
                return [], None
            failures.append(internal_error(pf.path, type(culprit), exc))
            return [], type(culprit)
        found = [(inst, inst.collect(reports)) for inst, reports in found]
    out: list[Diagnostic] = []
    pf.prepare_ranges(
        node for _, reports in found for rep in reports for node in (rep.node, rep.fix.node if rep.fix else None)
    )
    for inst, reports in found:
        for rep in reports:
            try:
                out.append(_locate(pf, type(inst), rep))
            except Exception as exc:  # e.g. a report on a node that is not in this tree
                failures.append(internal_error(pf.path, type(inst), exc))
                break
    return out, None


def run_project_rules(parsed: Mapping[str, ParsedFile], rules: Iterable[type[ProjectRule]]) -> list[Diagnostic]:
    project = ProjectContext(files={p: pf.context for p, pf in parsed.items()})
    return run_project_rules_on(project, lambda path: parsed.get(path), rules)


def run_project_rules_on(
    project: ProjectContext,
    parsed_for: Callable[[str], ParsedFile | None],
    rules: Iterable[type[ProjectRule]],
) -> list[Diagnostic]:
    """Run project rules; ``parsed_for(path)`` gives the parsed file a report points into."""
    out: list[Diagnostic] = []
    anchor = min(project.files) if project.files else "."
    found: list[tuple[type[ProjectRule], list[Report]]] = []
    with indexing(project):
        for rule in rules:
            try:
                with profile.phase(f"project rule {rule.code}"):
                    inst = rule()
                    found.append((rule, inst.collect(inst.check(project))))
            except Exception as exc:
                out.append(internal_error(anchor, rule, exc))
    # One position pass per file for all the project rules' reports in it.
    wanted: dict[str, list[cst.CSTNode | None]] = {}
    for _, reports in found:
        for rep in reports:
            wanted.setdefault(rep.path or "", []).extend((rep.node, rep.fix.node if rep.fix else None))
    for path, nodes in wanted.items():
        try:
            pf = parsed_for(path)
            if pf is not None:
                pf.prepare_ranges(nodes)
        except Exception:  # located (and reported) one by one below
            pass
    for rule, reports in found:
        for rep in reports:
            try:
                pf = parsed_for(rep.path or "")
                if pf is None:
                    continue
                out.append(_locate(pf, rule, rep))
            except Exception as exc:
                out.append(internal_error(rep.path or anchor, rule, exc))
    return out
