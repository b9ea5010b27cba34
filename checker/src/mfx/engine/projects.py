"""Which files form one project: the unit the project rules look across.

A run over a directory that holds several distributions (a folder of unpacked extensions, a
monorepo with one ``pyproject.toml`` per package) lints each as its own project: a project rule
asks questions such as "does any module of this extension forward ``--branch``?", and the answer
must never come from another extension. Each file belongs to the nearest directory, from its
own up to the run's root, that holds a distribution marker: ``pyproject.toml``, ``setup.py``,
``setup.cfg`` or a ``*.dist-info`` directory (an unpacked wheel). ``*.egg-info`` is no marker:
a ``src/`` layout keeps it next to the package, inside the project. Files under no marker form
the root's project.

Projects are independent, so a parallel run lints whole projects side by side, each in one
process that parses every file once (see :func:`mfx.engine.lint.lint_paths`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

MARKER_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
MARKER_DIR_SUFFIX = ".dist-info"


def is_project_root(directory: Path) -> bool:
    """Whether ``directory`` holds a distribution marker."""
    if any((directory / name).is_file() for name in MARKER_FILES):
        return True
    try:
        return any(child.name.endswith(MARKER_DIR_SUFFIX) and child.is_dir() for child in directory.iterdir())
    except OSError:  # unreadable: no marker seen
        return False


def project_groups(files: Sequence[Path], root: Path) -> list[list[Path]]:
    """``files`` (absolute) split by project, each group in the input order; groups ordered by
    their first file. Files outside ``root`` go with the root's project."""
    root = root.resolve()
    owner: dict[Path, Path] = {}  # directory -> the project root that owns it

    def project_of(directory: Path) -> Path:
        seen = []
        d = directory
        while d not in owner:
            seen.append(d)
            if d == root or d.parent == d or root not in d.parents:
                found = d if d == root or is_project_root(d) else root
                break
            if is_project_root(d):
                found = d
                break
            d = d.parent
        else:
            found = owner[d]
        for s in seen:
            owner[s] = found
        return found

    groups: dict[Path, list[Path]] = {}
    for path in files:
        groups.setdefault(project_of(path.parent), []).append(path)
    return list(groups.values())
