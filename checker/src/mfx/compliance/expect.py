"""Failure messages that name the pitfall and the fix.

Every assertion of the suite reads ``assert cond, pitfall("O15", "what went wrong", fix="...")``
so a red test tells the extension author which known mistake is the likely cause and what to
change, instead of a bare ``assert False``. The ids and titles are those of the shared catalogue
(:mod:`mfx.pitfalls`); tests/checker/test_pitfall_catalogue.py fails on an id it does not know.
"""

from __future__ import annotations

from typing import Optional

from mfx.pitfalls import all_pitfalls, split_ids

#: Short titles of the pitfalls, from the shared catalogue (:mod:`mfx.pitfalls`).
TITLES = {p.id: p.title for p in all_pitfalls()}


def pitfall(pid: str, what: str, fix: Optional[str] = None) -> str:
    """The message of a failed check: ``[O15 <title>] what went wrong. Fix: what to do``."""
    ids = split_ids(pid)
    label = "; ".join(f"{p} {TITLES[p]}" if p in TITLES else f"{p} (not in the pitfall catalogue)" for p in ids) or "no known pitfall"
    message = f"[{label}] {what}"
    if fix:
        message += f"\n  Fix: {fix}"
    return message


class ComplianceFailure(AssertionError):
    """Raised by the harness when a wait or a call fails; its message comes from :func:`pitfall`."""


def fail(pid: str, what: str, fix: Optional[str] = None) -> "ComplianceFailure":
    """Build (for ``raise``) a failure naming the pitfall; keeps tracebacks out of the message."""
    return ComplianceFailure(pitfall(pid, what, fix))


#: Skip reasons with this prefix mean "the scenario of the test did not happen": its own outcome in
#: the capability matrix, the JSON twin and the JUnit XML, never counted as passed (like "not run").
NOT_EXERCISED = "not exercised:"
#: Skip reasons with this prefix mean "the test could not run" (e.g. a setting it needs is absent).
NOT_RUN = "not run:"


def not_exercised(reason: str) -> None:
    """End the running test as "not exercised: <reason>": its precondition did not hold, so a pass
    would prove nothing (e.g. no sibling job was running when the run failed)."""
    import pytest

    pytest.skip(f"{NOT_EXERCISED} {reason}")


def not_run(reason: str) -> None:
    """End the running test as "not run: <reason>" (e.g. set a compliance setting it needs)."""
    import pytest

    pytest.skip(f"{NOT_RUN} {reason}")
