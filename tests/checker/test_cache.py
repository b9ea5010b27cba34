"""The content-hash cache: warm runs skip parsing, any change invalidates exactly what it must."""

from __future__ import annotations

import os
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


# -- the cache key covers the whole mfx package ---------------------------------------------------

MFX_PACKAGE = Path(__file__).resolve().parents[2] / "checker" / "src" / "mfx"


def _copy_package(tmp_path: Path, bytecode: bool = False) -> Path:
    """A copy of the mfx package; with ``bytecode`` its ``__pycache__`` too (copied with the
    sources' times, so still valid: the copy then starts as fast as the installed package)."""
    import shutil

    target = tmp_path / "site" / "mfx"
    shutil.copytree(MFX_PACKAGE, target, ignore=None if bytecode else shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def test_fingerprint_changes_with_any_file_of_the_package(tmp_path: Path):
    """Every file of mfx, not a list of the ones that looked relevant: an edit to any of them,
    a new module or a rename gives another fingerprint; byte-compiled files do not."""
    from mfx.registry import package_fingerprint, rules_fingerprint

    copy = _copy_package(tmp_path)
    base = package_fingerprint(copy)
    assert base == rules_fingerprint() == package_fingerprint(), "the copy hashes like the installed package"
    files = sorted(p for p in copy.rglob("*") if p.is_file())
    assert len(files) > 150 and any(p.parts[-2] == "output" for p in files)
    for path in files:
        data = path.read_bytes()
        path.write_bytes(data + b"\n")
        assert package_fingerprint(copy) != base, f"an edit of {path.relative_to(copy)} keeps the fingerprint"
        path.write_bytes(data)
    assert package_fingerprint(copy) == base
    (copy / "engine" / "extra.py").write_text("")
    assert package_fingerprint(copy) != base
    (copy / "engine" / "extra.py").unlink()
    (copy / "config.py").rename(copy / "config2.py")
    assert package_fingerprint(copy) != base
    (copy / "config2.py").rename(copy / "config.py")
    (copy / "engine" / "__pycache__").mkdir()
    (copy / "engine" / "__pycache__" / "lint.cpython-311.pyc").write_bytes(b"\0junk")
    (copy / "stray.pyc").write_bytes(b"\0junk")
    assert package_fingerprint(copy) == base


def test_an_edit_of_any_module_invalidates_a_real_cache(project: Path, tmp_path_factory):
    """Through the CLI: a warm run answers from the cache; after an edit of a module outside the
    rules and analyses (here the output code) the next run does not (a new cache key)."""
    elsewhere = tmp_path_factory.mktemp("mfx_copy")  # not inside the project it lints
    copy = _copy_package(elsewhere, bytecode=True)
    cache_dir = elsewhere / "cache"
    env = {**os.environ, "PYTHONPATH": str(copy.parent)}
    probe = (
        "import sys, mfx\n"
        f"assert mfx.__file__.startswith({str(copy.parent)!r}), mfx.__file__\n"
        "from mfx.cli import main\n"
        f"sys.exit(main(['check', '-j', '1', '--cache-dir', {str(cache_dir)!r}, '.']))\n"
    )

    def run() -> set:
        proc = subprocess.run([sys.executable, "-c", probe], cwd=project, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and "MFX101" in proc.stdout, proc
        return {p.name for p in cache_dir.rglob("*.json")}

    first = run()
    assert len(first) == 1
    assert run() == first, "a warm run uses the same key"
    target = copy / "output" / "__init__.py"
    target.write_text(target.read_text() + "\n# edited\n")
    after = run()
    assert len(after) == 2 and first < after, "the edit gave a new cache key"
