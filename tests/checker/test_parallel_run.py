"""Parallel cold runs (mfx.engine.pool): each file parsed once, the same findings as a serial
run, nothing lost when a worker dies."""

from __future__ import annotations

import gc
import multiprocessing
import os
from pathlib import Path

import pytest
from conftest import DEPLOYER_BUG
from mfx.config import build_settings, load_file_config
from mfx.discovery import discover
from mfx.engine import lint as lint_module
from mfx.engine.gcpolicy import THRESHOLDS, lint_gc
from mfx.engine.lint import lint_paths
from mfx.engine.pool import HELPER_TREE, PARENT, PARENT_TREE, WORKER, Claims

#: One finding, and enough bytes (a long literal is one token: cheap) for the parallel path.
BIG_BUG = DEPLOYER_BUG + "\nDATA = '" + "x" * 30000 + "'\n"
REGISTRATION = 'CLIS_DESC = [("my-orch", ".my_orch.cli.cli")]\n'
CLI = "import click\n\n@click.group()\ndef cli():\n    pass\n\n@cli.command()\ndef a():\n    pass\n\n@cli.command()\ndef b():\n    pass\n"


def _extension(root: Path, *, broken_init: bool) -> Path:
    plugins = root / "metaflow_extensions" / "my_org" / "plugins"
    (plugins / "my_orch").mkdir(parents=True)
    (plugins / "mfextinit_my_org.py").write_text(REGISTRATION)
    (plugins / "my_orch" / "cli.py").write_text(CLI)
    for i in range(8):
        (plugins / "my_orch" / f"m{i}.py").write_text(BIG_BUG)
    # A namespace package must not have an __init__.py (MFX021); one that does not even parse
    # is a syntax error only: project rules never see a file that does not parse.
    init = root / "metaflow_extensions" / "__init__.py"
    init.write_text("def (:\n" if broken_init else "")
    return root


def _run(root: Path, jobs: int):
    settings = build_settings(load_file_config(None, root))
    files = discover([str(root)], settings.root, settings.exclude)
    return lint_paths(files, settings, jobs=jobs, use_cache=False).diagnostics


@pytest.mark.parametrize("broken_init", [False, True], ids=["parses", "syntax-error"])
def test_parallel_equals_serial_with_project_rules(tmp_path: Path, broken_init: bool):
    root = _extension(tmp_path, broken_init=broken_init)
    serial = _run(root, 1)
    codes = {d.code for d in serial}
    assert {"MFX101", "MFX001"} <= codes  # per-file and project findings both present
    assert ("MFX021" in codes) is not broken_init and ("MFX000" in codes) is broken_init
    for jobs in (2, 3):
        assert _run(root, jobs) == serial


def test_files_of_a_dead_worker_are_linted_here(tmp_path: Path, monkeypatch):
    root = _extension(tmp_path, broken_init=False)
    serial = _run(root, 1)
    parent = os.getpid()
    real = lint_module.lint_text

    def dies_in_a_worker(relpath, *args, **kwargs):
        if os.getpid() != parent:
            os._exit(3)  # a native crash, as far as this process can tell
        return real(relpath, *args, **kwargs)

    monkeypatch.setattr(lint_module, "lint_text", dies_in_a_worker)
    assert _run(root, 2) == serial


def test_helper_dying_before_its_project_rules_answer(tmp_path: Path, monkeypatch):
    """The first worker runs part of the project rules; if it dies first, they run here."""
    root = _extension(tmp_path, broken_init=False)
    serial = _run(root, 1)
    parent = os.getpid()
    real = lint_module._run_project_rules

    def dies_in_the_helper(*args, **kwargs):
        if os.getpid() != parent and kwargs.get("part") == "helper":
            os._exit(3)
        return real(*args, **kwargs)

    monkeypatch.setattr(lint_module, "_run_project_rules", dies_in_the_helper)
    assert _run(root, 2) == serial


def test_claim_table():
    claims = Claims(5, multiprocessing.get_context())
    assert claims.claim(1, PARENT_TREE) and claims.claim(3, HELPER_TREE)
    assert not claims.claim(1, WORKER)
    # files nobody has, in order; a fresh worker never takes a file whose tree is elsewhere
    assert [claims.next(WORKER), claims.next(PARENT), claims.next(WORKER), claims.next(WORKER)] == [0, 2, 4, None]
    # the trees built here go to this process or to the workers forked after (they inherit them)
    assert claims.next_tree(WORKER) == 1 and claims.next_tree(PARENT) is None
    assert claims.next_tree(WORKER, HELPER_TREE) == 3
    assert [claims.owner[i] for i in range(5)] == [WORKER, WORKER, PARENT, WORKER, WORKER]


def test_gc_policy_is_restored():
    before = gc.get_threshold()
    with lint_gc():
        assert gc.get_threshold() == THRESHOLDS and gc.get_freeze_count() > 0
        with lint_gc():  # nested (a --fix pass inside a run) keeps the outer freeze
            assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_no_worker_process_means_a_serial_run(tmp_path: Path, monkeypatch):
    root = _extension(tmp_path, broken_init=False)
    serial = _run(root, 1)

    def cannot_fork(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr("mfx.engine.pool.ClaimPool.__init__", cannot_fork)
    assert _run(root, 2) == serial


def test_spawn_start_method_gives_the_same(tmp_path: Path, monkeypatch):
    """Where fork is unavailable (macOS and Windows default to spawn) the workers only take the
    files nobody has: no split of the project rules, no inherited trees; the same findings."""
    root = _extension(tmp_path, broken_init=True)
    serial = _run(root, 1)
    monkeypatch.setattr("mfx.engine.pool._context", lambda method=None: multiprocessing.get_context("spawn"))
    assert _run(root, 2) == serial
