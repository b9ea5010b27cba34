"""The capability matrix: per capability, whether it is required, declared, and how it fared.

Written at the end of the session as Markdown (for people) plus a JSON twin next to it (for
tools such as the template's own end-to-end test). JUnit XML comes from pytest's --junitxml.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional

from .capabilities import Capability, for_kind

# Worst result wins when one capability has several tests.
_RANK = {"failed": 4, "error": 4, "passed": 2, "skipped": 1, "not exercised": 1, "not run": 0}
# Outcomes of tests that proved nothing: never counted as passed.
UNPROVEN = ("not run", "not exercised")


MESSAGE_LIMIT = 4000  # characters of a failure message kept in the JSON twin


@dataclass
class CapabilityResult:
    """What the session saw for one capability."""

    tests: List[str] = field(default_factory=list)
    outcomes: Dict[str, str] = field(default_factory=dict)  # test name -> passed|failed|skipped|error|not run|not exercised
    reasons: Dict[str, str] = field(default_factory=dict)  # test name -> skip reason
    messages: Dict[str, str] = field(default_factory=dict)  # test name -> failure message (headline first)

    def result(self) -> str:
        if not self.tests:
            return "no test"
        seen = [self.outcomes.get(t, "not run") for t in self.tests]
        if any(s in ("failed", "error") for s in seen):
            return "FAILED"
        unproven = [s for s in seen if s in UNPROVEN]
        if unproven and "passed" not in seen:
            return "not run" if "not run" in unproven else "not exercised"
        if all(s == "skipped" for s in seen):
            return "skipped"
        if "skipped" in seen or unproven:
            return "partial"
        return "passed"


def record(results: Dict[str, CapabilityResult], cid: str, test: str, outcome: str, reason: str = "", message: str = "") -> None:
    """Fold one test phase outcome into the capability's result (worst outcome wins); ``message`` is
    a failure's message (its first line is the diagnosis headline), kept for the JSON twin."""
    entry = results.setdefault(cid, CapabilityResult())
    if test not in entry.tests:
        entry.tests.append(test)
    previous = entry.outcomes.get(test, "not run")
    if _RANK[outcome] >= _RANK[previous]:
        entry.outcomes[test] = outcome
        if outcome in ("skipped", *UNPROVEN) and reason:
            entry.reasons[test] = reason
        if outcome in ("failed", "error") and message and test not in entry.messages:
            entry.messages[test] = message[:MESSAGE_LIMIT]


def rows(kind: str, declared: FrozenSet[str], results: Dict[str, CapabilityResult]) -> List[dict]:
    """One row per capability of the kind, in registry order."""
    out = []
    for cap in for_kind(kind):
        res = results.get(cap.id, CapabilityResult())
        out.append(
            {
                "capability": cap.id,
                "title": cap.title,
                "level": cap.level,
                "declared": cap.required or cap.id in declared,
                "result": res.result(),
                "tests": [{"name": t, "outcome": res.outcomes.get(t, "not run"), "reason": res.reasons.get(t, ""), "message": res.messages.get(t, "")} for t in res.tests],
                "pitfalls": list(cap.pitfalls),
            }
        )
    return out


def _num(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f}"


def _md_row(row: dict) -> str:
    tests = "<br>".join(f"`{t['name']}` {t['outcome']}" + (f" ({t['reason']})" if t["reason"] else "") for t in row["tests"]) or "-"
    declared = "yes" if row["declared"] else "no"
    if row["level"] == "required":
        declared = "(required)"
    return f"| `{row['capability']}` | {row['level']} | {declared} | **{row['result']}** | {tests} | {', '.join(row['pitfalls']) or '-'} |"


def write(
    md_path: Path,
    kind: str,
    plugin: str,
    declared: FrozenSet[str],
    results: Dict[str, CapabilityResult],
    wall_seconds: Optional[float],
    timings: Optional[List[dict]] = None,
    problem: Optional[str] = None,
    leftovers: Optional[List[str]] = None,
) -> None:
    """Write ``<md_path>`` and ``<md_path>.json`` (same stem); ``timings`` are per-run durations,
    ``problem`` what kept the suite from running (the devstack did not start), ``leftovers`` the
    report of what the extension left behind (:mod:`.cleanup`)."""
    table = rows(kind, declared, results)
    required_failed = [r["capability"] for r in table if r["level"] == "required" and r["result"] != "passed"]
    lines = [
        f"# Compliance report: {plugin} ({kind})",
        "",
        f"Required capabilities passed: {sum(1 for r in table if r['level'] == 'required' and r['result'] == 'passed')}"
        f"/{sum(1 for r in table if r['level'] == 'required')}"
        + (f"; not passed: {', '.join(required_failed)}" if required_failed else ""),
        f"Optional capabilities declared: {', '.join(sorted(declared)) or 'none'}",
    ]
    if wall_seconds is not None:
        lines.append(f"Wall time: {wall_seconds:.1f} s")
    if problem:
        lines += ["", "**Not run:** " + problem.strip().splitlines()[0], "", "```", problem.strip(), "```"]
    lines += [
        "",
        "| capability | level | declared | result | tests | pitfalls |",
        "|---|---|---|---|---|---|",
        *(_md_row(r) for r in table),
        "",
    ]
    if timings:
        lines += [
            "## Run times",
            "",
            "trigger: the `trigger()` call; run: init to the last task's end (Metaflow metadata); observed: trigger to the suite seeing the end.",
            "",
            "| flow | test | status | trigger s | run s | observed s |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {t['flow']} | {t['test']} | {t.get('status')} | {_num(t.get('trigger_seconds'))} | {_num(t.get('run_seconds'))} | {_num(t.get('observed_seconds'))} |"
            for t in timings
        ]
        lines.append("")
    if leftovers:
        lines += ["## Left behind by the extension", "", "```", *leftovers, "```", ""]
    md_path = Path(md_path)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text("\n".join(lines), encoding="utf-8")
    md_path.with_suffix(".json").write_text(
        json.dumps({"kind": kind, "plugin": plugin, "declared": sorted(declared), "wall_seconds": wall_seconds, "problem": problem, "leftovers": list(leftovers or []), "capabilities": table, "timings": timings or []}, indent=2),
        encoding="utf-8",
    )


def describe(cap: Capability) -> str:
    """One line for docs: id, level, title, pitfalls."""
    return f"`{cap.id}` ({cap.level}): {cap.title}" + (f" [{', '.join(cap.pitfalls)}]" if cap.pitfalls else "")
