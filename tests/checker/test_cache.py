"""The content-hash cache: warm runs skip parsing, any change invalidates exactly what it must."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import DEPLOYER_BUG, run_inprocess
from mfx.config import build_settings, load_file_config
from mfx.discovery import discover
from mfx.engine.lint import lint_paths


def _run(root: Path, **kw):
    settings = build_settings(load_file_config(None, root), **kw)
    return lint_paths(discover([str(root)], settings.root, settings.exclude), settings, jobs=1)


def test_warm_run_uses_cache_and_sees_changes(project: Path):
    cold = _run(project)
    assert cold.from_cache == 0 and [d.code for d in cold.diagnostics] == ["MFX101"]
    warm = _run(project)
    assert warm.from_cache == 2 and warm.diagnostics == cold.diagnostics
    (project / "pkg" / "deployer.py").write_text(DEPLOYER_BUG.replace("self.deployer_kwargs =", "self._deployer_kwargs ="))
    changed = _run(project)
    assert changed.from_cache == 1 and changed.diagnostics == []
    other_settings = _run(project, ignore=["MFX101"])
    assert other_settings.from_cache == 0, "the rule selection is part of the cache key"
    assert (project / ".mfx_cache" / ".gitignore").exists()


def test_corrupt_cache_is_ignored(project: Path):
    _run(project)
    for path in (project / ".mfx_cache").rglob("*.json"):
        path.write_text("{not json")
    again = _run(project)
    assert again.from_cache == 0 and [d.code for d in again.diagnostics] == ["MFX101"]


def test_no_cache_and_cache_dir_options(project: Path, tmp_path: Path):
    run_inprocess(["check", "--no-cache"], project)
    assert not (project / ".mfx_cache").exists()
    elsewhere = tmp_path / "cachehere"
    run_inprocess(["check", "--cache-dir", str(elsewhere)], project)
    assert list(elsewhere.rglob("*.json"))


def test_warm_run_does_not_import_libcst(project: Path):
    """Importing libcst and its metadata costs more than the whole warm-run budget."""
    run_inprocess(["check"], project)
    code = (
        "import sys\nfrom mfx.cli import main\nrc = main(['check'])\n"
        "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST', rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "NO-LIBCST 1", proc
