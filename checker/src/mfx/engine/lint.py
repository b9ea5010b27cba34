"""A whole ``mfx check`` run: read, answer from the cache, lint the rest (in parallel when it
pays), run project rules, apply suppressions.

Nothing here imports libcst until a file actually has to be linted, so a warm run over an
unchanged project only reads and hashes files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from mfx.config import Settings
from mfx.discovery import relative_to_root
from mfx.engine import profile
from mfx.engine.cache import Cache, content_hash, project_fingerprint
from mfx.engine.diagnostic import Diagnostic
from mfx.engine.embedded import Embedded, find_embedded, is_code_template
from mfx.engine.gcpolicy import lint_gc
from mfx.engine.noqa import parse_noqa
from mfx.engine.sources import SourceFile
from mfx.projectfiles import is_project_file
from mfx.registry import ENGINE_CODES, SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME
from mfx.selection import PerFileIgnores, matches_any

#: The project rules a parallel run's first worker runs (see mfx.engine.pool): the
#: compute-backend family, whose searches read mostly other files than the orchestrator ones.
HELPER_FAMILY = "MFX3"

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


def default_jobs() -> int:
    """Processes for ``-j 0`` (the default): one per core, as ruff does.

    A parallel run costs ~1.25x the CPU of a serial one (files the project rules read after a
    worker took them are parsed twice, see :mod:`mfx.engine.pool`); it is faster whenever it
    gets more than ~1.25 cores, which on a machine with two or more cores it does even when
    other processes keep them busy (it then takes a larger share of the machine: ``-j 1`` is
    the polite choice there). ``-j N`` is always honoured."""
    from mfx.engine.pool import cpu_count

    return cpu_count()


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


def _file_rules(codes: Sequence[str], ignored: Sequence[str]):
    from mfx.engine.runner import load_rules
    from mfx.rule import Rule

    return [r for r in load_rules(codes) if issubclass(r, Rule) and not matches_any(ignored, r.code)]


def needs_parse(relpath: str, text: str, codes: Sequence[str], pfi: PerFileIgnores) -> bool:
    """Whether some enabled per-file rule is applicable to this file (its words occur in the
    text, see :mod:`mfx.applicability`). A file for which none is, is *skimmed*: never handed
    to libcst here; a project rule that needs its tree parses it then (see
    :func:`_run_project_rules`)."""
    from mfx.applicability import applicable, file_words

    rules = _file_rules(codes, pfi.ignored_for(relpath))
    words = file_words(text, relpath)
    return any(applicable(r.TRIGGERS, words, r.FILE_NAMES) for r in rules)


def lint_text(relpath: str, text: str, codes: Sequence[str], pfi: PerFileIgnores, keep_parsed: dict | None = None):
    """Per-file rules on one file's text, suppressions applied. Returns (diagnostics, parsed ok);
    a skimmed file (:func:`needs_parse`) counts as parsed: the project rules find out."""
    from mfx.engine.runner import PARSE_ERRORS, ParsedFile, internal_error, syntax_error

    # A NUL byte makes the file no Python source at all (CPython refuses it): always reported.
    if "\0" not in text and not needs_parse(relpath, text, codes, pfi):
        if profile.ENABLED:
            profile.TIMES["count:files skimmed (not parsed)"] += 1
        return [], True
    try:
        pf = ParsedFile(relpath, text)
    except PARSE_ERRORS as exc:
        return [syntax_error(relpath, exc, text)], False
    except Exception as exc:  # libcst itself failed: a bug, reported, never a crash
        return [internal_error(relpath, None, exc)], False
    if keep_parsed is not None:
        keep_parsed[relpath] = pf
    return lint_parsed(pf, codes, pfi), True


def lint_parsed(pf, codes: Sequence[str], pfi: PerFileIgnores) -> list[Diagnostic]:
    """Per-file rules on an already parsed file (a :class:`~mfx.engine.runner.ParsedFile`),
    suppressions applied."""
    from mfx.engine.runner import internal_error, run_file_rules

    ignored = pfi.ignored_for(pf.path)
    try:
        found = run_file_rules(pf, _file_rules(codes, ignored))
    except Exception as exc:
        found = [internal_error(pf.path, None, exc)]
    return apply_suppressions(found, pf.source, ignored)


def _has_project_rules(codes: Sequence[str]) -> bool:
    from mfx.engine.runner import load_rules
    from mfx.rule import ProjectRule

    return any(issubclass(r, ProjectRule) for r in load_rules(codes))


# -- project rules ------------------------------------------------------------------------------


def _run_project_rules(
    settings: Settings,
    sources: Mapping[str, SourceFile],
    ok_paths: Sequence[str],
    keep_parsed: dict,
    parse: Callable | None = None,
    part: str = "all",
) -> list[Diagnostic]:
    """Project-file rules and project rules. ``part`` splits them between two processes of a
    parallel run: "helper" is the compute-backend family (:data:`HELPER_FAMILY`, which reads
    mostly other files than the rest), "here" everything else; "all" is both."""
    from mfx.engine.lazy import LazyProject
    from mfx.engine.runner import (
        PARSE_ERRORS,
        ParsedFile,
        internal_error,
        load_rules,
        run_project_rules_on,
        syntax_error,
    )
    from mfx.rule import ProjectRule

    enabled = load_rules(settings.enabled)
    project_files = _lint_project_files(settings, sources, enabled) if part != "helper" else []
    rules = [r for r in enabled if issubclass(r, ProjectRule)]
    if part != "all":
        rules = [r for r in rules if r.code.startswith(HELPER_FAMILY) == (part == "helper")]
    if not rules or not ok_paths:
        return project_files
    # A skimmed file (never parsed by the per-file pass, see needs_parse) may not parse: the
    # rules then run again without it (as if the per-file pass had found the error) and its
    # syntax error is reported here, once. Bounded: each round excludes at least one file.
    failures: dict[str, Diagnostic] = {}
    build = parse or ParsedFile

    def tolerant(path: str, text: str):
        if path in failures:
            return None
        try:
            return build(path, text)
        except PARSE_ERRORS as exc:
            failures[path] = syntax_error(path, exc, text)
        except Exception as exc:  # libcst itself failed: a bug, reported, never a crash
            failures[path] = internal_error(path, None, exc)
        return None

    excluded: set[str] = set()
    while True:
        paths = [p for p in ok_paths if p not in excluded]
        if not paths:
            found = []
            break
        lazy = LazyProject({p: sources[p].text for p in paths}, keep_parsed, tolerant)
        try:
            found = run_project_rules_on(lazy.context(), lazy.parsed, rules)
        except Exception as exc:
            return project_files + list(failures.values()) + [internal_error(min(paths), None, exc)]
        if set(failures) <= excluded:
            break
        excluded |= set(failures)
    found = list(failures.values()) + found
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


@contextlib.contextmanager
def _words_of_run():
    """The words searched in each file (:func:`mfx.applicability.file_words`) are shared by the
    per-file and the project rules of a run, and dropped after it."""
    from mfx.applicability import forget_file_words

    forget_file_words()
    try:
        yield
    finally:
        forget_file_words()


def lint_paths(files: Sequence[Path], settings: Settings, *, jobs: int = 0, use_cache: bool = True) -> RunResult:
    """Lint ``files`` (absolute paths from discovery) with ``settings``."""
    with lint_gc(), _words_of_run():
        return _lint_paths(files, settings, jobs, use_cache)


def _lint_paths(files: Sequence[Path], settings: Settings, jobs: int, use_cache: bool) -> RunResult:
    from mfx.engine.projects import project_groups

    jobs = jobs or default_jobs()
    cache = Cache(settings.cache_dir, settings.fingerprint(), enabled=use_cache)
    # Each project (mfx.engine.projects) is linted on its own: project rules never look across
    # two distributions. Several projects with work to do are linted side by side, one process
    # each; a single one may use every process itself (_lint_parallel).
    # MFX_ONE_PROJECT=1 (benchmarks only): the whole run as one project, to measure the
    # within-project pool on a big project (benchmarks/lint/bench.py).
    groups = [list(files)] if os.environ.get("MFX_ONE_PROJECT") == "1" else project_groups(files, settings.root)
    plans = [_plan(group, settings, cache) for group in groups]
    busy = [i for i, plan in enumerate(plans) if plan.todo or plan.project is None]
    found: dict[int, list[Diagnostic]] = {}
    if len(busy) > 1 and jobs > 1 and sum(plan.todo_bytes for plan in plans) >= PARALLEL_MIN_BYTES:
        found = _lint_projects_parallel(plans, busy, settings, jobs, cache)
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    hits = 0
    for i, plan in enumerate(plans):
        if i not in found:
            found[i] = _execute(plan, settings, jobs if len(busy) == 1 else 1, cache)
        diagnostics.extend(_to_hosts(found[i], plan.pieces) if plan.pieces else found[i])
        sources.update((p, s) for p, s in plan.sources.items() if p not in plan.pieces)
        hits += plan.hits
    cache.save()
    return RunResult(
        root=settings.root,
        files=sorted(sources),
        diagnostics=sorted(diagnostics, key=lambda d: d.sort_key),
        sources=sources,
        from_cache=hits,
    )


@dataclasses.dataclass
class _Plan:
    """One project of a run, read and answered from the cache as far as it goes."""

    sources: dict  # relpath -> SourceFile (or _TextView for code found inside strings)
    digests: dict[str, str]
    diagnostics: list[Diagnostic]  # read errors and cached findings
    todo: list[tuple[str, str]]  # (relpath, text) still to lint
    ok_paths: list[str]  # cached files that parse
    pieces: dict[str, Embedded]
    fingerprint: str
    project: list[Diagnostic] | None  # the project rules' findings, when cached
    hits: int = 0

    @property
    def todo_bytes(self) -> int:
        return sum(len(text) for _, text in self.todo)


def _plan(files: Sequence[Path], settings: Settings, cache: Cache) -> _Plan:
    """Read one project's files, take what the cache knows, list what remains to lint."""
    sources: dict = {}
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
        if is_project_file(relpath) or is_code_template(relpath):
            continue  # pyproject.toml, CI workflows: read by project-file rules, below; templates: below
        cached = cache.get(relpath, digests[relpath])
        if cached is not None:
            hits += 1
            diagnostics.extend(cached)
            if not any(d.code == SYNTAX_ERROR_CODE for d in cached):
                ok_paths.append(relpath)
            continue
        todo.append((relpath, src.text))
    # Generated code is code: Python held in strings and template files is linted as virtual
    # modules (``<host>::<label>.py``) with every rule, then reported at its place in the host.
    pieces: dict[str, Embedded] = {}
    for relpath, src in list(sources.items()):
        if src.error is not None or not (relpath.endswith(".py") or is_code_template(relpath)):
            continue
        for piece in find_embedded(relpath, src.text):
            vpath = piece.path
            pieces[vpath] = piece
            sources[vpath] = _TextView(piece.text)
            digests[vpath] = content_hash(vpath, piece.text.encode("utf-8"))
            cached = cache.get(vpath, digests[vpath])
            if cached is not None:
                hits += 1
                diagnostics.extend(cached)
                ok_paths.append(vpath)
            else:
                todo.append((vpath, piece.text))
    fingerprint = project_fingerprint(f"{p}:{digests[p]}" for p in sources)
    return _Plan(sources, digests, diagnostics, todo, ok_paths, pieces, fingerprint, cache.get_project(fingerprint), hits)


def _execute(plan: _Plan, settings: Settings, jobs: int, cache) -> list[Diagnostic]:
    """Lint what ``plan`` left to do; new findings go to ``cache`` (``put``/``put_project``).
    Returns every finding of the project, at the virtual paths of embedded code."""
    todo, sources, project = plan.todo, plan.sources, plan.project
    parallel = None
    if jobs > 1 and len(todo) >= PARALLEL_MIN_FILES and plan.todo_bytes >= PARALLEL_MIN_BYTES:
        if os.environ.get("MFX_PARALLEL") == "pool":  # the plain-pool comparison (benchmarks)
            parallel = _lint_plain_pool(todo, settings, jobs, sources, plan.ok_paths, project)
        else:
            parallel = _lint_parallel(todo, settings, jobs, sources, plan.ok_paths, project)
    if parallel is not None:
        linted, project = parallel
    else:
        linted, project = _lint_serial(todo, settings, sources, plan.ok_paths, project)
    diagnostics = list(plan.diagnostics)
    for relpath, found, _ok in linted:
        diagnostics.extend(found)
        cache.put(relpath, plan.digests[relpath], found)
    if plan.project is None:
        cache.put_project(plan.fingerprint, project)
    return diagnostics + project


class _Recorder:
    """What a worker process of :func:`_lint_projects_parallel` would have put in the cache."""

    def __init__(self) -> None:
        self.files: list[tuple[str, str, list[Diagnostic]]] = []
        self.project: list[tuple[str, list[Diagnostic]]] = []

    def put(self, relpath: str, digest: str, diagnostics: list[Diagnostic]) -> None:
        self.files.append((relpath, digest, diagnostics))

    def put_project(self, fingerprint: str, diagnostics: list[Diagnostic]) -> None:
        self.project.append((fingerprint, diagnostics))


#: The plans and settings of the running _lint_projects_parallel, inherited by its forked workers.
_FORKED: tuple[list[_Plan], Settings] | None = None


def _project_worker(index: int) -> tuple[list[Diagnostic], _Recorder]:
    assert _FORKED is not None
    plans, settings = _FORKED
    recorder = _Recorder()
    return _execute(plans[index], settings, 1, recorder), recorder


def _lint_projects_parallel(
    plans: list[_Plan], busy: list[int], settings: Settings, jobs: int, cache: Cache
) -> dict[int, list[Diagnostic]]:
    """Lint the ``busy`` projects with up to ``jobs`` forked processes, biggest first, each
    project whole in one process (every file parsed once). Projects whose worker failed, or all
    of them where fork is unavailable, are left out of the answer: the caller lints them here."""
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    global _FORKED
    if not sys.platform.startswith("linux"):  # spawned workers would not inherit the plans
        return {}
    order = sorted(busy, key=lambda i: -plans[i].todo_bytes)
    _FORKED = (plans, settings)
    found: dict[int, list[Diagnostic]] = {}
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(busy)), mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {i: pool.submit(_project_worker, i) for i in order}
            for i, future in futures.items():
                try:
                    diagnostics, recorder = future.result()
                except Exception:  # a worker died (killed, out of memory): linted here instead
                    continue
                for relpath, digest, diags in recorder.files:
                    cache.put(relpath, digest, diags)
                for fingerprint, diags in recorder.project:
                    cache.put_project(fingerprint, diags)
                found[i] = diagnostics
    except (OSError, ValueError):  # no process could be started: lint in this one
        pass
    finally:
        _FORKED = None
    return found


def _to_hosts(diagnostics: Iterable[Diagnostic], pieces: Mapping[str, Embedded]) -> list[Diagnostic]:
    """Diagnostics of virtual modules moved to their host files. A piece libcst cannot parse
    (CPython could) is no finding of the user's: its syntax error is dropped."""
    out = []
    for d in diagnostics:
        piece = pieces.get(d.path)
        if piece is None:
            out.append(d)
        elif d.code != SYNTAX_ERROR_CODE:
            out.append(piece.to_host(d))
    return out


def _lint_serial(
    todo: list[tuple[str, str]],
    settings: Settings,
    sources: Mapping,
    cached_ok: list[str],
    project: list[Diagnostic] | None,
) -> tuple[list[tuple[str, list[Diagnostic], bool]], list[Diagnostic]]:
    """Lint ``todo`` in this process, then (unless ``project`` came from the cache) the project
    rules over the files that parse, reusing the trees."""
    keep_parsed: dict | None = {} if todo and _has_project_rules(settings.enabled) else None
    linted = [
        (relpath, *lint_text(relpath, text, settings.enabled, settings.per_file_ignores, keep_parsed))
        for relpath, text in todo
    ]
    if project is None:
        now_ok = sorted(cached_ok + [relpath for relpath, _, ok in linted if ok])
        project = _run_project_rules(settings, sources, now_ok, keep_parsed or {})
    return linted, project


def _lint_parallel(
    todo: list[tuple[str, str]],
    settings: Settings,
    jobs: int,
    sources: Mapping[str, SourceFile],
    cached_ok: list[str],
    project: list[Diagnostic] | None,
) -> tuple[list[tuple[str, list[Diagnostic], bool]], list[Diagnostic]] | None:
    """Lint ``todo`` with ``jobs`` processes (this one included) and, unless ``project`` came
    from the cache, run the project rules meanwhile (see :mod:`mfx.engine.pool`). None when
    no worker process can be started."""
    from mfx.engine.pool import ClaimPool
    from mfx.engine.runner import ParsedFile

    codes, pfi = settings.enabled, settings.per_file_ignores
    items = sorted(todo, key=lambda it: -len(it[1]))  # big files first: better balance
    texts = dict(todo)
    guessed = project is None
    # Which files parse is known only once they are linted: the project rules assume all do,
    # and are run again below if one does not.
    assumed_ok = sorted(cached_ok + list(texts))

    def parser(claim: Callable[[str], object]):
        def parse(relpath: str, text: str):
            claim(relpath)
            return ParsedFile(relpath, text)  # a syntax error is handled by _run_project_rules

        return parse

    def helper_part(claim):  # runs in the first worker (fork): its trees stay there
        trees: dict = {}
        found = _run_project_rules(settings, sources, assumed_ok, trees, parser(claim), part="helper")
        return found, trees

    try:
        pool = ClaimPool(items, jobs, codes, pfi, helper_part if guessed else None)
    except OSError:  # no process could be started (limits, no /dev/shm): lint in this one
        return None
    parsed: dict = {}  # every tree built here, for the project rules
    linted: list[tuple[str, list[Diagnostic], bool]] = []
    if guessed:
        part = "here" if pool.helper_running else "all"
        project = _run_project_rules(settings, sources, assumed_ok, parsed, parser(pool.claim_for_here), part=part)
    pool.share_trees(parsed)  # forked workers lint the files parsed here, without parsing them
    linted.extend(pool.lint_here(parsed))
    for relpath, found, ok in pool.worker_results():
        if found is None:  # a worker died with this file: lint it here
            found, ok = lint_text(relpath, texts[relpath], codes, pfi, parsed)
        linted.append((relpath, found, ok))
    if guessed and pool.helper_running:
        if pool.helper_project is None:  # the first worker died before answering
            pool.helper_project = _run_project_rules(
                settings, sources, assumed_ok, parsed, parser(lambda _: None), part="helper"
            )
        # Both parts may have parsed the same skimmed file and found its syntax error.
        project = project + [d for d in pool.helper_project if d.code != SYNTAX_ERROR_CODE or d not in project]
    failed = {relpath for relpath, _, ok in linted if not ok}
    if guessed and failed:
        # Some file does not parse: the project rules must not have seen it (as in a serial run).
        ok_now = sorted(set(cached_ok) | {relpath for relpath, _, ok in linted if ok})
        project = _run_project_rules(settings, sources, ok_now, parsed, parser(lambda _: None))
    return linted, project


def _pool_lint(item: tuple[str, str, Sequence[str], PerFileIgnores]) -> tuple[str, list[Diagnostic], bool]:
    relpath, text, codes, pfi = item
    return (relpath, *lint_text(relpath, text, codes, pfi))


def _lint_plain_pool(
    todo: list[tuple[str, str]],
    settings: Settings,
    jobs: int,
    sources: Mapping[str, SourceFile],
    cached_ok: list[str],
    project: list[Diagnostic] | None,
) -> tuple[list[tuple[str, list[Diagnostic], bool]], list[Diagnostic]] | None:
    """A plain ``concurrent.futures.ProcessPoolExecutor`` of ``jobs`` workers lints the files,
    biggest first, while this process runs the project rules (parsing the files they read)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    codes, pfi = settings.enabled, settings.per_file_ignores
    items = [(r, t, codes, pfi) for r, t in sorted(todo, key=lambda it: -len(it[1]))]
    try:
        executor = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
    except (OSError, ValueError):
        return None
    with executor:
        results = executor.map(_pool_lint, items, chunksize=1)
        guessed = project is None
        if guessed:
            project = _run_project_rules(settings, sources, sorted(cached_ok + [r for r, _ in todo]), {})
        linted = list(results)
    if guessed and any(not ok for _, _, ok in linted):
        ok_now = sorted(set(cached_ok) | {relpath for relpath, _, ok in linted if ok})
        project = _run_project_rules(settings, sources, ok_now, {})
    return linted, project


def lint_texts(texts: Mapping[str, str], settings: Settings) -> list[Diagnostic]:
    """Lint in-memory sources (``{relative path: text}``) without the cache, in this process:
    what ``--fix`` runs after each pass."""
    with lint_gc(), _words_of_run():
        return _lint_texts(texts, settings)


def _lint_texts(texts: Mapping[str, str], settings: Settings) -> list[Diagnostic]:
    todo = [(relpath, texts[relpath]) for relpath in sorted(texts) if not is_project_file(relpath)]
    linted, project = _lint_serial(todo, settings, {p: _TextView(t) for p, t in texts.items()}, [], None)
    diagnostics = [d for _, found, _ok in linted for d in found] + project
    return sorted(diagnostics, key=lambda d: d.sort_key)


class _TextView:
    """The one attribute of :class:`SourceFile` that project rules need."""

    def __init__(self, text: str) -> None:
        self.text = text
