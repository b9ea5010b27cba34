"""Run project-file rules: parse each wanted file once, run the rules, locate and suppress.

A file is parsed only when an enabled rule (not ignored for it by ``per-file-ignores``) reads
it, so a repository whose CI YAML is unusual costs nothing unless a workflow rule is on. A
file that does not parse is one ``MFX000`` diagnostic at the parser's position; a rule that
raises is one ``MFX999`` naming it. Neither ever stops the run.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Sequence

from mfx.engine.diagnostic import Diagnostic
from mfx.projectfiles import kind_of, toml_doc, yaml_doc
from mfx.projectfiles.base import FileReport, ProjectFile, ProjectFileRule, ProjectFilesContext
from mfx.projectfiles.noqa import parse_noqa
from mfx.registry import INTERNAL_ERROR_CODE, SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME
from mfx.selection import PerFileIgnores, matches_any


def parse_error(path: str, kind: str, message: str, line: int, column: int) -> Diagnostic:
    label = "TOML" if kind == "toml" else "YAML"
    return Diagnostic(
        SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME, f"{label} parse error: {message}", path, line, column, line, column
    )


def _parse(path: str, text: str, kind: str) -> "ProjectFile | Diagnostic":
    try:
        data = toml_doc.parse(text) if kind == "toml" else yaml_doc.parse(text)
    except (toml_doc.TomlError, yaml_doc.YamlError) as exc:
        return parse_error(path, kind, exc.message, exc.line, exc.column)
    except RecursionError:
        return parse_error(path, kind, "too deeply nested to parse", 1, 1)
    return ProjectFile(path=path, text=text, kind=kind, data=data)


def _diagnostic(rule: type[ProjectFileRule], report: FileReport) -> Diagnostic:
    line, column = report.line or 1, report.column or 1
    return Diagnostic(
        code=rule.code,
        name=rule.name,
        message=report.message,
        path=report.path or "",
        line=line,
        column=column,
        end_line=getattr(report, "end_line", None) or line,
        end_column=getattr(report, "end_column", None) or column,
    )


def lint_project_files(
    texts: Mapping[str, str],
    rules: Iterable[type],
    per_file_ignores: Optional[PerFileIgnores] = None,
    apply_noqa: bool = True,
) -> list[Diagnostic]:
    """Diagnostics of the project-file ``rules`` (other rule classes are ignored) on the project
    files among ``texts`` (``{relative path: text}``, every file of the run)."""
    from mfx.engine.runner import internal_error  # imports libcst: only when rules really run

    rules = [r for r in rules if isinstance(r, type) and issubclass(r, ProjectFileRule)]
    pfi = per_file_ignores or PerFileIgnores()
    out: list[Diagnostic] = []
    parsed: dict[str, ProjectFile] = {}
    for path in sorted(texts):
        kind = kind_of(path)
        if kind is None:
            continue
        ignored = pfi.ignored_for(path)
        if not any(r.wants(path) and not matches_any(ignored, r.code) for r in rules):
            continue
        result = _parse(path, texts[path], kind)
        if isinstance(result, Diagnostic):
            out.append(result)
        else:
            parsed[path] = result
    if not parsed:
        return out
    context = ProjectFilesContext(files=parsed, texts=texts)
    found: list[Diagnostic] = []
    for rule in rules:
        try:
            reports = list(rule(context).check())
        except Exception as exc:  # a crashing rule is a bug in mfx: reported, never a traceback
            found.append(internal_error(min(parsed), rule, exc))
            continue
        for report in reports:
            if report.path in parsed and not matches_any(pfi.ignored_for(report.path), rule.code):
                found.append(_diagnostic(rule, report))
    if apply_noqa:
        found = _unsuppressed(found, parsed)
    return out + found


def _unsuppressed(diagnostics: Sequence[Diagnostic], parsed: Mapping[str, ProjectFile]) -> list[Diagnostic]:
    """Drop diagnostics a ``# noqa`` comment suppresses: on any line the finding spans (a shell
    command continued with ``\\`` takes its comment on the last line)."""
    maps = {}
    kept = []
    for d in diagnostics:
        file = parsed.get(d.path)
        if file is None or d.code == INTERNAL_ERROR_CODE:
            kept.append(d)
            continue
        if d.path not in maps:
            maps[d.path] = parse_noqa(file.text, file.kind)
        noqa = maps[d.path]
        if any(noqa.suppresses(d.code, row) for row in range(d.line, max(d.line, d.end_line) + 1)):
            continue
        kept.append(d)
    return kept
