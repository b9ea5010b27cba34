"""Quality gates over real code: the pinned third-party extensions (expected-findings
snapshot), Metaflow's own reference implementations (no false positives), and fuzzing
(hypothesmith programs, real packages from the venv): never an MFX999 internal error.

Regenerate the snapshot after reviewing new findings::

    MFX_UPDATE_SNAPSHOTS=1 python -m pytest tests/checker/test_quality_gates.py -k third_party
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tomllib
from conftest import REPO
from mfx.config import FileConfig, build_settings
from mfx.engine.lint import lint_paths, lint_text
from mfx.engine.runner import all_rules
from mfx.registry import INTERNAL_ERROR_CODE
from mfx.selection import PerFileIgnores

SNAPSHOT = REPO / "tests" / "checker" / "snapshots" / "third_party.json"
FINDINGS_DOC = REPO / "docs" / "lint" / "third-party-findings.md"
VERDICTS = Path(__file__).parent / "snapshots" / "third_party_verdicts.toml"


def verdicts() -> dict:
    return tomllib.loads(VERDICTS.read_text())


def _key(path: str, line: int, code: str) -> str:
    return f"{path}:{line} {code}"


def findings_page(findings) -> str:
    """The snapshot as a readable page: what mfx finds in published extensions."""
    from third_party_corpus import PINNED

    lines = [
        "<!-- Generated with the snapshot (MFX_UPDATE_SNAPSHOTS=1, tests/checker/test_quality_gates.py). -->",
        "# What mfx finds in published extensions",
        "",
        "Every finding of `mfx check` (all rules) on the pinned wheels below. Each one is reviewed "
        "when the snapshot changes: a true finding is a real bug in that release; a false one is a "
        "bug in the rule and gets fixed there.",
        "",
        "| Distribution | Version |",
        "|---|---|",
        *[f"| {d} | {v} |" for d, v in PINNED.items()],
        "",
    ]
    current = None
    for d in sorted(findings, key=lambda d: d.sort_key):
        dist = d.path.split("/", 1)[0]
        if dist != current:
            current = dist
            lines += ["", f"## {dist}", ""]
        where = d.path.split("/", 1)[1] if "/" in d.path else d.path
        review = verdicts().get(_key(d.path, d.line, d.code))
        said = f" — reviewed, **{review['verdict']}**: {review['why']}" if review else ""
        lines.append(f"- `{where}:{d.line}` [{d.code}](../rules/{d.code}.md) {d.name}: {d.message}{said}")
    return "\n".join(lines) + "\n"

#: Rules whose findings on Metaflow's own Argo / Step Functions / Kubernetes / Batch code are
#: accepted. Empty is the goal: a rule that does not apply to core sets
#: ``applies_to_core = False``; a finding there is otherwise a false positive of the rule.
#: Entries below fire today and are waiting for their authors' review (see the final report).
ALLOWED_ON_CORE: dict[str, str] = {}

CORE_DIRS = ("plugins/argo", "plugins/aws/step_functions", "plugins/kubernetes", "plugins/aws/batch")


def _settings(root: Path, codes=None):
    select = list(codes) if codes is not None else None
    return build_settings(FileConfig(root=root), select=select)


def _lint_dir(root: Path, files: list[Path], codes=None):
    settings = _settings(root, codes)
    return lint_paths(files, settings, use_cache=False).diagnostics


@pytest.fixture(scope="session")
def corpus():
    from third_party_corpus import DownloadError, cache_root, corpus_dirs

    try:
        dirs = corpus_dirs()
    except DownloadError as exc:  # only a failed download skips; nothing is skipped silently
        pytest.skip(f"third-party wheels could not be downloaded: {exc}")
    return cache_root() / "corpus", dirs


@pytest.fixture(scope="session")
def corpus_findings(corpus):
    from third_party_corpus import python_files

    root, dirs = corpus
    files = [f for d in dirs.values() for f in python_files(d)]
    return _lint_dir(root, files)


def test_third_party_no_internal_errors(corpus_findings):
    crashes = [f"{d.path}:{d.line}: {d.message}" for d in corpus_findings if d.code == INTERNAL_ERROR_CODE]
    assert crashes == []


def test_third_party_snapshot(corpus_findings):
    got = sorted([d.path, d.code, d.line] for d in corpus_findings)
    if os.environ.get("MFX_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(got, indent=1) + "\n")
        FINDINGS_DOC.write_text(findings_page(corpus_findings))
    want = json.loads(SNAPSHOT.read_text())
    stale = sorted(set(verdicts()) - {_key(p, line, c) for p, c, line in got})
    assert not stale, f"verdicts for findings that no longer exist (remove them): {stale}"
    assert all(v["verdict"] == "true" and v["why"] for v in verdicts().values()), "a false finding is fixed in its rule, not kept"
    new = [x for x in got if x not in want]
    gone = [x for x in want if x not in got]
    assert not new and not gone, (
        f"findings on the pinned extensions changed: {len(new)} new {new[:20]}, {len(gone)} gone {gone[:20]}; "
        "review them, then MFX_UPDATE_SNAPSHOTS=1"
    )


@pytest.fixture(scope="session")
def core_findings():
    import metaflow

    base = Path(metaflow.__file__).resolve().parent
    codes = [r.code for r in all_rules() if getattr(r, "applies_to_core", True)]
    files = sorted(f for d in CORE_DIRS for f in (base / d).rglob("*.py"))
    assert files, "metaflow's reference implementations were not found"
    return _lint_dir(base, files, codes)


def test_no_false_positives_on_metaflow_core(core_findings):
    unexpected = [f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}" for d in core_findings if d.code not in ALLOWED_ON_CORE]
    assert unexpected == [], "rules that do not apply to core must set applies_to_core = False"


def test_fuzz_hypothesmith_programs():
    hypothesis = pytest.importorskip("hypothesis")
    hypothesmith = pytest.importorskip("hypothesmith")
    codes = tuple(_settings(Path(".")).enabled)
    crashes = []

    @hypothesis.settings(
        max_examples=int(os.environ.get("MFX_FUZZ_EXAMPLES", "200")),
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
    )
    @hypothesis.given(hypothesmith.from_grammar())
    def check(source: str) -> None:
        # Alternate the path: some rules only look at registration modules or test files.
        paths = ("fuzz.py", "metaflow_extensions/fuzz/plugins/mfextinit_fuzz.py", "tests/test_fuzz.py")
        path = paths[len(source) % len(paths)]
        found, _ = lint_text(path, source, codes, PerFileIgnores())
        crashes.extend(d.message for d in found if d.code == INTERNAL_ERROR_CODE)

    check()
    assert crashes == []


def test_fuzz_installed_packages_sample():
    """A deterministic sample of metaflow and its dependencies from this environment (the whole
    sweep runs in the benchmark: ``python benchmarks/lint/bench.py --sweep``)."""
    import importlib.util

    files: list[Path] = []
    roots = []
    for name in ("metaflow", "boto3", "botocore", "requests", "urllib3"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        pkg = Path(list(spec.submodule_search_locations)[0])
        roots.append(pkg.parent)
        every = int(os.environ.get("MFX_SWEEP_EVERY", "25"))
        files.extend(sorted(pkg.rglob("*.py"))[::every])
    assert files, "no installed packages to sweep"
    findings = _lint_dir(roots[0], files)
    crashes = [f"{d.path}: {d.message}" for d in findings if d.code == INTERNAL_ERROR_CODE]
    assert crashes == []


def test_third_party_parallel_runs_find_the_same(corpus, corpus_findings):
    """Claiming files between processes (mfx.engine.pool) changes who lints what, never what is
    found: the whole corpus, project rules included, with 2 and 3 processes."""
    from third_party_corpus import python_files

    root, dirs = corpus
    files = [f for d in dirs.values() for f in python_files(d)]
    settings = _settings(root)
    serial = lint_paths(files, settings, jobs=1, use_cache=False).diagnostics
    assert serial == sorted(corpus_findings, key=lambda d: d.sort_key)
    for jobs in (2, 3):
        assert lint_paths(files, settings, jobs=jobs, use_cache=False).diagnostics == serial, jobs
