"""How safe a fix is. Kept apart from :mod:`mfx.rule` so that code which only reads cached
results (the CLI's warm path, the output formats) never has to import libcst."""

from __future__ import annotations

import enum


class Applicability(str, enum.Enum):
    """How safe a fix is (ruff's vocabulary)."""

    SAFE = "safe"  # meaning and intent of the code are kept; applied by --fix
    UNSAFE = "unsafe"  # may change behaviour or drop comments; needs --unsafe-fixes
