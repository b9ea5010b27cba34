"""The backend and security rules stay silent on Metaflow's own @kubernetes and @batch.

They are the reference implementations of the compute-backend contract: a rule that fires on
them is wrong, or declares ``applies_to_core = False``, or the finding is a documented true
positive listed here.
"""

from __future__ import annotations

import pytest
from backend_support import backend_rules, core_sources
from mfx.engine.runner import lint_sources

#: (code, file name) of true findings on core, with the reason.
KNOWN_TRUE_FINDINGS = {
    # (MFX312 does not apply to core, but it is a real bug there.)
    # `except Exception: ...; _sync_metadata(); sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)`: with local
    # metadata and a first attempt that fails to launch, the sync raises "No completed attempts"
    # and the trampoline exits 1, so the launch failure is retried (backend-contract A.7, verified).
    ("MFX312", "kubernetes_cli.py"),
    ("MFX312", "batch_cli.py"),
}


@pytest.fixture(scope="module")
def core_findings():
    sources = core_sources("plugins/kubernetes", "plugins/aws/batch", "plugins/__init__.py")
    assert len(sources) > 10, "Metaflow's kubernetes/batch sources not found"
    return lint_sources(sources, backend_rules())


def _key(d):
    return (d.code, d.path.rsplit("/", 1)[-1])


def test_no_unexpected_findings_on_core(core_findings):
    applies = {r.code for r in backend_rules() if getattr(r, "applies_to_core", True)}
    unexpected = [
        f"{d.code} {d.path}:{d.line} {d.message}"
        for d in core_findings
        if d.code in applies and _key(d) not in KNOWN_TRUE_FINDINGS
    ]
    assert unexpected == []


def test_known_core_findings_still_found(core_findings):
    assert KNOWN_TRUE_FINDINGS <= {_key(d) for d in core_findings}


def test_core_is_recognised_as_compute_backends():
    """The positive identification works on core: both decorators and both trampolines."""
    from mfx.analysis.backend_project import backend_clis, compute_decorators
    from mfx.engine.context import ProjectContext
    from mfx.engine.runner import ParsedFile

    sources = core_sources("plugins/kubernetes", "plugins/aws/batch")
    project = ProjectContext(files={p: ParsedFile(p, s).context for p, s in sources.items()})
    assert {d.deco_name for _, d in compute_decorators(project)} == {"kubernetes", "batch"}
    clis = {c.group.name: c for c in backend_clis(project)}
    assert set(clis) == {"kubernetes", "batch"}
    assert all(c.step is not None and "run-id" in c.step.options for c in clis.values())
