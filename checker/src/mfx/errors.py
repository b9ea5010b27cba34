"""The one exception the CLI turns into ``mfx: error: ...`` and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad options or configuration: reported in one line, never as a traceback."""
