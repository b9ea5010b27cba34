"""The rules find the ✗ cells of the contract matrix (backend-contract.md B.2) in the five
published third-party backends and stay silent on their ✓ cells.

The wheels are fetched once with ``pip download --no-deps`` into the shared corpus cache
(``tests/checker/third_party_corpus.py``); without network the tests are skipped with the reason.
"""

from __future__ import annotations

import pytest
from backend_support import backend_rules, tree_sources
from mfx.engine.runner import lint_sources

#: dist -> {code: file that must hold a finding}: the ✗ / ~ cells, one rule each.
EXPECTED = {
    "metaflow-gha": {
        "MFX302": "gha_cli.py",  # no --clone-run-id / --clone-path / --num-parallel
        "MFX304": "worker.py",  # inner step command built by hand
        "MFX306": "gha_decorator.py",  # no bootstrap_commands / executable
        "MFX310": "gha_decorator.py",  # no local-metadata sync
        "MFX317": "gha_cli.py",  # minutes_between_retries ignored
        "MFX321": "gha_cli.py",  # input paths on the command line
        "MFX323": "gha_decorator.py",  # queue max_retries re-runs the same attempt
        "MFX325": "gha_cli.py",  # no log sidecar, no datastore tailing
    },
    "metaflow-sandbox": {
        "MFX302": "sandbox_cli.py",  # no --num-parallel, @parallel not rejected
        "MFX308": "sandbox_decorator.py",  # target_platform from platform.machine()
        "MFX314": "sandbox_decorator.py",  # @resources not merged
        "MFX317": "sandbox_cli.py",  # minutes_between_retries ignored
        "MFX320": "sandbox_executor.py",  # negative exit codes passed to sys.exit
        "MFX322": "sandbox_cli.py",  # broad except around exec exits 202
        "MFX401": "sandbox_executor.py",  # debug env dump writes the forwarded credentials
        "MFX325": "sandbox_cli.py",  # nothing until the step ends
    },
    "modal-metaflow": {
        "MFX023": "modal_decorator.py",  # import modal at the top
        "MFX302": "modal_cli.py",  # no --ubf-context
        "MFX307": "modal_decorator.py",  # no supports_conda_environment
        "MFX311": "modal_decorator.py",  # remote branch returns before the sync
        "MFX313": "modal_decorator.py",  # hasattr(deco, "cpu")
        "MFX323": "modal_decorator.py",  # retries= for Modal functions
        "MFX325": "modal_cli.py",  # no datastore tailing
    },
    "metaflow-slurm": {
        "MFX301": "slurm_decorator.py",  # local datastore accepted
        "MFX302": "slurm_cli.py",  # no --ubf-context
        "MFX305": "slurm.py",  # get_package_commands without metadata
        "MFX314": "slurm_decorator.py",  # @resources not merged
        "MFX315": "slurm_decorator.py",  # run_time_limit never computed
        "MFX318": "slurm_decorator.py",  # __init__ drops inserted_by
        "MFX324": "slurm.py",  # scancel only via atexit
    },
    "metaflow-skypilot": {
        "MFX024": "skypilot_decorator.py",  # defaults from inspect.signature(sky.Resources)
        "MFX301": "skypilot_decorator.py",  # local datastore accepted
        "MFX302": "skypilot_cli.py",  # no --ubf-context
        "MFX305": "skypilot.py",  # get_package_commands without metadata
        "MFX316": "skypilot.py",  # run_time_limit computed but ignored by launch_job
        "MFX324": "skypilot.py",  # sky.cancel only via atexit
    },
}

#: dist -> codes that must stay silent: the ✓ cells.
CLEAN = {
    "metaflow-gha": {"MFX022", "MFX023", "MFX301", "MFX318"},
    "metaflow-sandbox": {"MFX022", "MFX023", "MFX301", "MFX304", "MFX305", "MFX306", "MFX310", "MFX311", "MFX318"},
    "modal-metaflow": {"MFX022", "MFX301", "MFX304", "MFX305", "MFX306", "MFX317", "MFX318"},
    "metaflow-slurm": {"MFX022", "MFX023", "MFX304", "MFX306", "MFX307", "MFX308", "MFX310", "MFX311", "MFX317", "MFX322", "MFX323", "MFX325"},
    "metaflow-skypilot": {"MFX022", "MFX304", "MFX306", "MFX307", "MFX308", "MFX310", "MFX311", "MFX317", "MFX322", "MFX323", "MFX325"},
}


@pytest.fixture(scope="session")
def backend_corpus():
    from third_party_corpus import PINNED, DownloadError, cache_root, download, unpack

    wanted = {d: PINNED[d] for d in EXPECTED}
    root = cache_root()
    try:
        wheels = download(wanted, root / "wheels")
    except DownloadError as exc:
        pytest.skip(f"third-party backends not available: {exc}")
    return {d: unpack(wheels[d], root / "corpus" / f"{d}-{wanted[d]}") for d in wanted}


@pytest.fixture(scope="session")
def corpus_findings(backend_corpus):
    return {dist: lint_sources(tree_sources(path), backend_rules()) for dist, path in backend_corpus.items()}


@pytest.mark.parametrize("dist", sorted(EXPECTED))
def test_contract_violations_found(corpus_findings, dist):
    found = {(d.code, d.path.rsplit("/", 1)[-1]) for d in corpus_findings[dist]}
    missing = [f"{code} in {fname}" for code, fname in EXPECTED[dist].items() if (code, fname) not in found]
    assert missing == []


@pytest.mark.parametrize("dist", sorted(CLEAN))
def test_contract_cells_done_right_stay_clean(corpus_findings, dist):
    noisy = [f"{d.code} {d.path}:{d.line} {d.message}" for d in corpus_findings[dist] if d.code in CLEAN[dist]]
    assert noisy == []
