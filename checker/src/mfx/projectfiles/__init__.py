"""Project files: the non-Python files some pitfalls live in (``pyproject.toml``, CI workflows).

Most rules read Python trees. A few pitfalls are decided by a build or CI configuration instead
(O30: the build backend decides whether the wheel carries ``top_level.txt``; O31: a CI step runs
two conftests in one pytest process). Those rules are :class:`~mfx.projectfiles.base.ProjectFileRule`
subclasses; this package finds their files, parses them (TOML / YAML, with positions), runs the
rules and applies ``# noqa`` comments written in the files' own comment syntax.

This module is imported by file discovery and by the engine's read loop, so it must stay cheap:
no libcst, no YAML parser, only the table of which paths are project files.
"""

from __future__ import annotations

import fnmatch
from typing import Optional

#: Which relative paths are project files, and how each is parsed (see :func:`matches`).
PATTERNS: dict[str, str] = {
    "pyproject.toml": "toml",
    ".github/workflows/*.yml": "yaml",
    ".github/workflows/*.yaml": "yaml",
}


def matches(relpath: str, pattern: str) -> bool:
    """``pattern`` matches the last components of the relative path, one glob per component
    (so ``sub/pyproject.toml`` of a monorepo counts, ``.github/workflows/old/x.yml`` does not)."""
    parts = relpath.split("/")
    globs = pattern.split("/")
    if len(parts) < len(globs):
        return False
    return all(fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts[-len(globs):], globs))


def kind_of(relpath: str) -> Optional[str]:
    """``"toml"`` / ``"yaml"`` for a project file, ``None`` for anything else."""
    for pattern, kind in PATTERNS.items():
        if matches(relpath, pattern):
            return kind
    return None


def is_project_file(relpath: str) -> bool:
    return kind_of(relpath) is not None
