"""Failure messages that name the pitfall and the fix.

Every assertion of the suite reads ``assert cond, pitfall("O15", "what went wrong", fix="...")``
so a red test tells the extension author which known mistake is the likely cause and what to
change, instead of a bare ``assert False``.
"""

from __future__ import annotations

from typing import Optional

# Short titles of the orchestrator pitfalls (docs: reference pitfalls O1-O31).
TITLES = {
    "O1": "attribute file never written",
    "O2": "trigger attribute JSON lacks pathspec or uses another run id",
    "O3": "CLI not registrable",
    "O4": "TYPE, desc key and CLI group name differ",
    "O5": "heavy imports at `import metaflow` time",
    "O6": "self.deployer_kwargs assigned",
    "O7": "trigger CLI without add_custom_parameters",
    "O8": "tuple passed to a multi-value click option",
    "O9": "parameters not reaching init, dropped or coerced",
    "O10": "config parameters passed to init as options",
    "O11": "config not propagated to every task",
    "O12": "@environment vars not injected",
    "O13": "--branch / --production not forwarded",
    "O14": "METAFLOW_OWNER not set",
    "O15": "retry count hard-coded, 1-based, or task id changing per attempt",
    "O16": "--max-user-code-retries missing or wrong",
    "O17": "@timeout not enforced",
    "O18": "input paths / split index built wrongly",
    "O19": "forbidden characters or numeric ids",
    "O20": "init skipped, re-run, or custom start/end ignored",
    "O21": "datastore or metadata root differs between client and workers",
    "O22": "status missing or non-standard",
    "O23": "from_deployment / get_triggered_run / list_deployed_flows not overridden",
    "O24": "trigger() blocks for the whole run",
    "O25": "split-switch mishandled",
    "O26": "unsupported feature not rejected",
    "O27": "@conda not materialised",
    "O28": "dynamic decorators (--with) not forwarded",
    "O29": "tags not propagated",
    "O30": "wheel without top_level.txt",
    "O31": "test-harness pitfall",
    "B1": "local datastore accepted",
    "B2": "CLI plugin shape / registration broken",
    "B3": "runtime_step_cli and the CLI disagree",
    "B4": "runtime-injected options not accepted",
    "B5": "inner step command built by hand",
    "B6": "package not downloaded via get_package_commands",
    "B7": "bootstrap assumptions about the worker",
    "B8": "environment bootstrap ignored",
    "B9": "wrong conda target platform",
    "B10": "job environment incomplete or polluted",
    "B11": "credentials / CA / proxy not forwarded",
    "B12": "local metadata not synced back",
    "B13": "metadata sync turns launch failures into retries",
    "B14": "exit-code mapping wrong",
    "B15": "hidden re-runs of the same attempt",
    "B16": "minutes_between_retries ignored",
    "B17": "logs missing, late or duplicated",
    "B18": "hard job limit preempts @timeout",
    "B19": "@resources ignored",
    "B20": "orphaned remote jobs",
    "B21": "heavy decorator import",
    "B22": "__init__ signature drift",
    "B23": "remote-only hook code runs in the @catch fallback",
    "B24": "extension only on PYTHONPATH",
    "B25": "huge --input-paths",
    "B26": "signals and negative exit codes",
}


def pitfall(pid: str, what: str, fix: Optional[str] = None) -> str:
    """The message of a failed check: ``[O15 <title>] what went wrong. Fix: what to do``."""
    ids = [p.strip() for p in pid.replace("/", ",").split(",") if p.strip()]
    label = "; ".join(f"{p} {TITLES[p]}" if p in TITLES else p for p in ids) or "no known pitfall"
    message = f"[{label}] {what}"
    if fix:
        message += f"\n  Fix: {fix}"
    return message


class ComplianceFailure(AssertionError):
    """Raised by the harness when a wait or a call fails; its message comes from :func:`pitfall`."""


def fail(pid: str, what: str, fix: Optional[str] = None) -> "ComplianceFailure":
    """Build (for ``raise``) a failure naming the pitfall; keeps tracebacks out of the message."""
    return ComplianceFailure(pitfall(pid, what, fix))
