"""A whole ``mfx check`` run: read, answer from the cache, lint the rest (in parallel when it
pays), run project rules, apply suppressions.

Nothing here imports libcst until a file actually has to be linted, so a warm run over an
unchanged project only reads and hashes files.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from mfx.config import Settings
from mfx.discovery import relative_to_root
from mfx.engine.cache import Cache, content_hash, project_fingerprint
from mfx.engine.diagnostic import Diagnostic
from mfx.engine.noqa import parse_noqa
from mfx.engine.sources import SourceFile
from mfx.projectfiles import is_project_file
from mfx.registry import ENGINE_CODES, SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME
from mfx.selection import PerFileIgnores, matches_any

#: Below this much source, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 200_000
PARALLEL_MIN_FILES = 4


@dataclasses.dataclass
class RunResult:
    root: Path
    files: list[str]  # relative paths of every file checked
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]
    from_cache: int = 0


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """Workers for ``-j 0`` (the default): the cores that are idle right now.

    A parallel run costs about 1.5x the CPU of a one-process run (each worker parses its files,
    and this process parses them again for the project rules, meanwhile). That pays only when
    cores are free: on a machine already busy (load average >= cores - 1) the pool made a cold
    run 1.5-2x slower in wall time than one process (docs/lint/performance.md). ``-j N`` is
    always honoured."""
    cores = _cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return cores
    return max(1, min(cores, int(cores - load + 0.5)))


def apply_suppressions(
    diagnostics: Iterable[Diagnostic], text: str, ignored: Sequence[str], noqa=None
) -> list[Diagnostic]:
    """Drop what ``# noqa`` / ``# mfx: noqa`` and per-file-ignores suppress. The engine's own
    codes (a file that does not parse, a crashing rule) cannot be suppressed."""
    diagnostics = list(diagnostics)
    if not diagnostics:
        return diagnostics
    if noqa is None and "noqa" not in text.lower():
        # Both comment forms contain "noqa" (see mfx.engine.noqa): without it only
        # per-file-ignores can drop anything, and tokenizing the file would be wasted.
        return [d for d in diagnostics if d.code in ENGINE_CODES or not matches_any(ignored, d.code)]
    noqa = parse_noqa(text) if noqa is None else noqa
    out = []
    for d in diagnostics:
        if d.code not in ENGINE_CODES and (matches_any(ignored, d.code) or noqa.suppresses(d.code, d.line)):
            continue
        out.append(d)
    return out


def read_error(relpath: str, message: str) -> Diagnostic:
    return Diagnostic(SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME, message, relpath, 1, 1, 1, 1)


# -- linting one file (in this process or a worker) ---------------------------------------------

_WORKER_CODES: tuple[str, ...] = ()
_WORKER_PFI: PerFileIgnores = PerFileIgnores()


def _init_worker(codes: tuple[str, ...], pfi: PerFileIgnores) -> None:
    global _WORKER_CODES, _WORKER_PFI
    _WORKER_CODES, _WORKER_PFI = codes, pfi


def _file_rules(codes: Sequence[str], ignored: Sequence[str]):
    from mfx.engine.runner import load_rules
    from mfx.rule import Rule

    return [r for r in load_rules(codes) if issubclass(r, Rule) and not matches_any(ignored, r.code)]


def lint_text(relpath: str, text: str, codes: Sequence[str], pfi: PerFileIgnores, keep_parsed: dict | None = None):
    """Per-file rules on one file's text, suppressions applied. Returns (diagnostics, parsed ok)."""
    from mfx.engine.runner import PARSE_ERRORS, ParsedFile, internal_error, run_file_rules, syntax_error

    ignored = pfi.ignored_for(relpath)
    try:
        pf = ParsedFile(relpath, text)
    except PARSE_ERRORS as exc:
        return [syntax_error(relpath, exc, text)], False
    except Exception as exc:  # libcst itself failed: a bug, reported, never a crash
        return [internal_error(relpath, None, exc)], False
    if keep_parsed is not None:
        keep_parsed[relpath] = pf
    try:
        found = run_file_rules(pf, _file_rules(codes, ignored))
    except Exception as exc:
        found = [internal_error(relpath, None, exc)]
    return apply_suppressions(found, text, ignored), True


def _worker(item: tuple[str, str]):
    relpath, text = item
    diagnostics, ok = lint_text(relpath, text, _WORKER_CODES, _WORKER_PFI)
    return relpath, diagnostics, ok


def _parses(relpath: str, text: str, into: dict) -> bool:
    """Parse ``text`` into ``into[relpath]``; False when it does not parse (as in lint_text)."""
    from mfx.engine.runner import ParsedFile

    try:
        into[relpath] = ParsedFile(relpath, text)
    except Exception:
        return False
    return True


def _has_project_rules(codes: Sequence[str]) -> bool:
    from mfx.engine.runner import load_rules
    from mfx.rule import ProjectRule

    return any(issubclass(r, ProjectRule) for r in load_rules(codes))


def _lint_many(
    items: list[tuple[str, str]],
    settings: Settings,
    jobs: int,
    keep_parsed: dict | None,
    while_workers_run: Callable[[], None] | None = None,
):
    """Yield (relpath, diagnostics, ok); a process pool when there is enough work.

    With a pool, ``while_workers_run`` is called in this process once every file has been
    handed to the workers: the project rules run there meanwhile instead of after them."""
    total = sum(len(t) for _, t in items)
    done: set[str] = set()
    if jobs > 1 and len(items) >= PARALLEL_MIN_FILES and total >= PARALLEL_MIN_BYTES:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        ordered = sorted(items, key=lambda it: -len(it[1]))  # big files first: better balance
        try:
            with ProcessPoolExecutor(
                max_workers=min(jobs, len(items)),
                mp_context=multiprocessing.get_context(method),
                initializer=_init_worker,
                initargs=(settings.enabled, settings.per_file_ignores),
            ) as pool:
                results = pool.map(_worker, ordered, chunksize=1)  # submits every file now
                if while_workers_run is not None:
                    while_workers_run()
                for relpath, diagnostics, ok in results:
                    done.add(relpath)
                    yield relpath, diagnostics, ok
        except BrokenProcessPool:
            pass  # a worker died (e.g. a native crash): the rest is linted here, one by one
    for relpath, text in items:
        if relpath in done:
            continue
        diagnostics, ok = lint_text(relpath, text, settings.enabled, settings.per_file_ignores, keep_parsed)
        yield relpath, diagnostics, ok


# -- project rules ------------------------------------------------------------------------------


def _run_project_rules(
    settings: Settings, sources: Mapping[str, SourceFile], ok_paths: Sequence[str], keep_parsed: dict
) -> list[Diagnostic]:
    from mfx.engine.lazy import LazyProject
    from mfx.engine.runner import internal_error, load_rules, run_project_rules_on
    from mfx.projectfiles.base import ProjectFileRule
    from mfx.rule import ProjectRule

    enabled = load_rules(settings.enabled)
    project_files = _lint_project_files(settings, sources, enabled)
    rules = [r for r in enabled if issubclass(r, ProjectRule) and not issubclass(r, ProjectFileRule)]
    if not rules or not ok_paths:
        return project_files
    lazy = LazyProject({p: sources[p].text for p in ok_paths}, keep_parsed)
    try:
        found = run_project_rules_on(lazy.context(), lazy.parsed, rules)
    except Exception as exc:
        return project_files + [internal_error(min(ok_paths), None, exc)]
    by_path: dict[str, list[Diagnostic]] = {}
    for d in found:
        by_path.setdefault(d.path, []).append(d)
    out: list[Diagnostic] = []
    for path, diags in by_path.items():
        text = sources[path].text if path in sources else ""
        out.extend(apply_suppressions(diags, text, settings.per_file_ignores.ignored_for(path)))
    return project_files + out


def _lint_project_files(settings: Settings, sources: Mapping[str, SourceFile], rules) -> list[Diagnostic]:
    """Project-file rules (mfx.projectfiles) on pyproject.toml / workflows; they see every path."""
    if not any(is_project_file(p) for p in sources):
        return []
    from mfx.projectfiles.runner import lint_project_files

    return lint_project_files({p: s.text for p, s in sources.items()}, rules, settings.per_file_ignores)


# -- the run ------------------------------------------------------------------------------------


def lint_paths(files: Sequence[Path], settings: Settings, *, jobs: int = 0, use_cache: bool = True) -> RunResult:
    """Lint ``files`` (absolute paths from discovery) with ``settings``."""
    jobs = jobs or default_jobs()
    cache = Cache(settings.cache_dir, settings.fingerprint(), enabled=use_cache)
    sources: dict[str, SourceFile] = {}
    digests: dict[str, str] = {}
    diagnostics: list[Diagnostic] = []
    todo: list[tuple[str, str]] = []
    ok_paths: list[str] = []
    hits = 0
    for path in files:
        relpath = relative_to_root(path, settings.root)
        src = SourceFile(path)
        sources[relpath] = src
        digests[relpath] = content_hash(relpath, src.data)
        if src.error is not None:
            diagnostics.append(read_error(relpath, src.error))
            continue
        if is_project_file(relpath):
            continue  # pyproject.toml, CI workflows: read by project-file rules, below
        cached = cache.get(relpath, digests[relpath])
        if cached is not None:
            hits += 1
            diagnostics.extend(cached)
            if not any(d.code == SYNTAX_ERROR_CODE for d in cached):
                ok_paths.append(relpath)
            continue
        todo.append((relpath, src.text))
    keep_parsed: dict | None = {} if todo and _has_project_rules(settings.enabled) else None
    fingerprint = project_fingerprint(f"{p}:{digests[p]}" for p in sources)
    project = cache.get_project(fingerprint)
    computed_meanwhile = False

    def project_rules_meanwhile() -> None:
        # Parallel run: the workers' trees stay in the workers, so this process parses the
        # files for the project rules anyway; doing it while they work overlaps the two.
        nonlocal project, computed_meanwhile
        if project is None:
            parsed: dict = {}
            ok_now = sorted(ok_paths + [p for p, text in todo if _parses(p, text, parsed)])
            project = _run_project_rules(settings, sources, ok_now, parsed)
            computed_meanwhile = True

    for relpath, found, ok in _lint_many(todo, settings, jobs, keep_parsed, project_rules_meanwhile):
        diagnostics.extend(found)
        cache.put(relpath, digests[relpath], found)
        if ok:
            ok_paths.append(relpath)
    ok_paths.sort()
    if project is None:
        project = _run_project_rules(settings, sources, ok_paths, keep_parsed or {})
        cache.put_project(fingerprint, project)
    elif computed_meanwhile:
        cache.put_project(fingerprint, project)
    diagnostics.extend(project)
    cache.save()
    return RunResult(
        root=settings.root,
        files=sorted(sources),
        diagnostics=sorted(diagnostics, key=lambda d: d.sort_key),
        sources=sources,
        from_cache=hits,
    )


def lint_texts(texts: Mapping[str, str], settings: Settings) -> list[Diagnostic]:
    """Lint in-memory sources (``{relative path: text}``) without the cache, in this process:
    what ``--fix`` runs after each pass."""
    keep_parsed: dict = {}
    diagnostics: list[Diagnostic] = []
    ok_paths: list[str] = []
    for relpath in sorted(texts):
        if is_project_file(relpath):
            continue
        found, ok = lint_text(relpath, texts[relpath], settings.enabled, settings.per_file_ignores, keep_parsed)
        diagnostics.extend(found)
        if ok:
            ok_paths.append(relpath)
    views = {p: _TextView(t) for p, t in texts.items()}
    diagnostics.extend(_run_project_rules(settings, views, ok_paths, keep_parsed))
    return sorted(diagnostics, key=lambda d: d.sort_key)


class _TextView:
    """The one attribute of :class:`SourceFile` that project rules need."""

    def __init__(self, text: str) -> None:
        self.text = text
