"""Run rules over sources: parse once, batch per-file rules, then project rules."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from mfx.engine.context import FileContext, ProjectContext
from mfx.engine.diagnostic import Diagnostic, Edit, FixEdit
from mfx.rule import Applicability, ProjectRule, Report, Rule, RuleClass

SYNTAX_ERROR_CODE = "MFX000"
SYNTAX_ERROR_NAME = "invalid-syntax"


@lru_cache(maxsize=None)
def all_rules() -> tuple[RuleClass, ...]:
    """Every rule class in ``mfx.rules``, sorted by code."""
    import mfx.rules

    found: list[RuleClass] = []
    for info in pkgutil.iter_modules(mfx.rules.__path__):
        module = importlib.import_module(f"mfx.rules.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, (Rule, ProjectRule))
                and value not in (Rule, ProjectRule)
                and value.__module__ == module.__name__
                and getattr(value, "code", None)
            ):
                found.append(value)
    return tuple(sorted(found, key=lambda r: r.code))


class ParsedFile:
    """A file parsed once; metadata is resolved on demand and cached on the wrapper."""

    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source
        self.module = cst.parse_module(source)
        self.wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.context = FileContext(path=path, source=source, module=self.module)
        self._positions = None

    @property
    def positions(self):
        if self._positions is None:
            self._positions = self.wrapper.resolve(PositionProvider)
        return self._positions


def syntax_error(path: str, exc: Exception) -> Diagnostic:
    line = getattr(exc, "raw_line", None) or getattr(exc, "lineno", None) or 1
    col = (getattr(exc, "raw_column", None) or 0) + 1
    message = getattr(exc, "message", None) or str(exc).splitlines()[0]
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


def _locate(parsed: ParsedFile, rule: RuleClass, report: Report) -> Diagnostic:
    if report.node is not None:
        rng = parsed.positions[report.node]
        start = (rng.start.line, rng.start.column + 1)
        end = (rng.end.line, rng.end.column + 1)
    else:
        start = end = (report.line or 1, report.column or 1)
    fix = None
    if report.fix is not None:
        target = parsed.positions[report.fix.node]
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


def lint_sources(
    sources: Mapping[str, str], rules: Sequence[RuleClass] | None = None
) -> list[Diagnostic]:
    """Lint ``{relative path: source}`` with ``rules`` (default: all). Never raises on bad input."""
    rules = all_rules() if rules is None else tuple(rules)
    file_rules = [r for r in rules if issubclass(r, Rule)]
    project_rules = [r for r in rules if issubclass(r, ProjectRule)]
    diagnostics: list[Diagnostic] = []
    parsed: dict[str, ParsedFile] = {}
    for path, source in sources.items():
        try:
            parsed[path] = ParsedFile(path, source)
        except (cst.ParserSyntaxError, SyntaxError, ValueError) as exc:
            diagnostics.append(syntax_error(path, exc))
    for pf in parsed.values():
        diagnostics.extend(run_file_rules(pf, file_rules))
    if project_rules and parsed:
        diagnostics.extend(run_project_rules(parsed, project_rules))
    return sorted(diagnostics, key=lambda d: d.sort_key)


def run_file_rules(pf: ParsedFile, rules: Iterable[type[Rule]]) -> list[Diagnostic]:
    instances = [r(pf.context) for r in rules]
    if not instances:
        return []
    pf.wrapper.visit_batched(instances)
    out = []
    for inst in instances:
        for rep in inst.reports:
            out.append(_locate(pf, type(inst), rep))
    return out


def run_project_rules(
    parsed: Mapping[str, ParsedFile], rules: Iterable[type[ProjectRule]]
) -> list[Diagnostic]:
    project = ProjectContext(files={p: pf.context for p, pf in parsed.items()})
    out = []
    for rule in rules:
        for rep in rule(project).check():
            pf = parsed.get(rep.path or "")
            if pf is None:
                continue
            out.append(_locate(pf, rule, rep))
    return out
