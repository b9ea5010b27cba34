"""Which files ``mfx check PATHS`` looks at: every ``*.py`` below the paths, plus the project files
some rules read (``pyproject.toml``, ``.github/workflows/*.yml``: :mod:`mfx.projectfiles`) and code
templates (``*.py.tpl``, ``*.j2``, ``*.mustache`` ...: :mod:`mfx.engine.embedded`) and YAML/JSON/shell
files that may hold task commands (:mod:`mfx.engine.shellcode`), minus excludes."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Iterable, Sequence

from mfx.engine.embedded import is_code_template
from mfx.errors import UsageError
from mfx.projectfiles import is_project_file


def _excluded(relpath: str, patterns: Sequence[str]) -> bool:
    """A pattern matches the relative path, or (without ``/``) any single component of it."""
    parts = relpath.split("/")
    for pat in patterns:
        pat = pat.rstrip("/")
        if pat.startswith("./"):
            pat = pat[2:]
        if "/" in pat:
            if fnmatch.fnmatchcase(relpath, pat) or fnmatch.fnmatchcase(relpath, pat + "/*"):
                return True
        elif any(fnmatch.fnmatchcase(part, pat) for part in parts):
            return True
    return False


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def absolute(path: Path) -> Path:
    """``path`` made absolute with its directories resolved but not its last component: a
    symlinked file keeps its own name (a dangling link is reported where it is, not under its
    target's path, and a link to a file elsewhere is reported under the link, as ruff does)."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        return path.resolve()
    return path.parent.resolve() / path.name


def relative_to_root(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with ``/``; files outside the root keep their absolute path."""
    full = absolute(path)
    try:
        return full.relative_to(root).as_posix()
    except ValueError:
        return full.as_posix()


def discover(paths: Iterable[str], root: Path, exclude: Sequence[str]) -> list[Path]:
    """Every Python and project file to lint, sorted and de-duplicated (resolved absolute paths)."""
    root = root.resolve()
    found: dict[str, Path] = {}
    for raw in paths:
        start = Path(raw)
        if not start.exists() and not start.is_symlink():
            raise UsageError(f"{raw}: no such file or directory")
        if start.is_file() or start.is_symlink() and not start.is_dir():
            resolved = absolute(start)
            rel = relative_to_root(resolved, root) if _inside(resolved, root) else resolved.name
            if not _excluded(rel, exclude):
                found[str(resolved)] = resolved
            continue
        base = start.resolve()
        # Excludes are matched below the project root; a directory outside it is matched below
        # itself (so `mfx check <venv>/site-packages/pkg` is not excluded by `site-packages`).
        anchor = root if _inside(base, root) else base
        for dirpath, dirnames, filenames in os.walk(base):
            directory = Path(dirpath)
            rel_dir = relative_to_root(directory, anchor)
            kept = []
            for d in sorted(dirnames):
                rel = f"{rel_dir}/{d}" if rel_dir not in ("", ".") else d
                if not _excluded(rel, exclude):
                    kept.append(d)
            dirnames[:] = kept
            for name in filenames:
                rel = f"{rel_dir}/{name}" if rel_dir not in ("", ".") else name
                if not name.endswith(".py") and not is_project_file(rel) and not is_code_template(rel):
                    continue
                if not _excluded(rel, exclude):
                    full = directory / name
                    found[str(full)] = full
    return [found[k] for k in sorted(found)]
