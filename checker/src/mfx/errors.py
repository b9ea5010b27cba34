"""The one exception the CLI turns into ``mfx: error: ...`` and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad options or configuration: reported in one line, never as a traceback."""


class CommandLineError(UsageError):
    """A bad command line, reported as argparse does: ``<prog>: error: <message>``, where prog is
    the (sub)command that rejected it (``mfx`` or ``mfx check``), never twice."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
