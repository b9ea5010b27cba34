"""Adversarial command-builder shapes of issue 11, section 2 (one model of the task commands).

Each case is a small extension (``{path: source}``) that assembles a Metaflow ``step`` command
in one of the shapes published extensions use, run against one command rule. A ``bad`` case
marks with ``# <-`` the line of the command builder where the finding belongs; a ``good`` case
gives the same builder the missing piece, in the same shape, and must stay quiet.
``tests/checker/test_command_model.py`` runs them all; ``cd tests/checker && python -m
command_model`` prints the recall per shape and rule.

The cases reuse the case type of :mod:`pitfall_variants` (``pitfall`` holds the shape here).
"""

from __future__ import annotations

from pitfall_variants import Case, run  # noqa: F401  (re-exported for the test and __main__)

SHAPES = {
    "list": "list displays",
    "append": "append/extend/+=/insert across statements",
    "concat": "string concatenation and formatting across statements",
    "join": '" ".join(...) and shlex.join',
    "helper": "helper functions returning argument lists or option dicts (across modules)",
    "dict": "options as a dict keyed by option names without dashes, expanded by a helper",
    "click": "kwargs of Metaflow's click API",
    "order": "order of pieces across statements",
}


def all_cases() -> list:
    from . import cases

    return list(cases.CASES)
