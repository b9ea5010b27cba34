"""The mutant patch files shared by the orchestrator and backend kill-rate checks.

Each patch under tests/mutations/<kind>/ starts with
`# mfx-mutation: pitfall=<id> expect=<test>[,<test>]` and an optional `# why` line. The id is one
of the pitfall catalogue (mfx/pitfalls.py), and the file name starts with it (`o12_...`,
`b01_...`), so a listing of the directory says which pitfalls have a mutant.

A mutant is *killed* when one of its tests fails, and *diagnosed* when the headline (first line)
of such a failure names the mutant's pitfall: the check proves the suite finds the root cause,
not merely that something broke. Headlines come from the suite's JUnit XML (``compliance.xml``).
``MFX_MUTANTS=o14,o20`` limits a run to the patches whose file name contains one of the words.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from mfx.pitfalls import PITFALLS

HEADER = re.compile(r"^# mfx-mutation: pitfall=(?P<pitfall>\S+) expect=(?P<expect>\S+)\s*$")
#: The pitfall a patch's file name starts with: `o12_no_environment_vars.patch`, `b01_...`.
NAME = re.compile(r"^(?P<kind>[ob])(?P<number>[0-9]+)_")


def pitfall_of_name(name: str) -> str:
    """``"b01_local_datastore_accepted.patch"`` -> ``"B1"`` (empty when the name has no id)."""
    match = NAME.match(name)
    return f"{match['kind'].upper()}{int(match['number'])}" if match else ""


@dataclass
class Mutant:
    path: Path
    pitfall: str
    expect: List[str]
    why: str
    result: str = "not run"
    detail: str = ""
    seconds: float = 0.0
    outcomes: Dict[str, str] = field(default_factory=dict)
    headlines: Dict[str, str] = field(default_factory=dict)  # failed test -> first line of its failure
    diagnosed: Optional[bool] = None  # killed and a failure headline names the pitfall

    def judge(self, failed: List[str]) -> None:
        """Killed by ``failed``: diagnosed when one of their headlines names :attr:`pitfall`."""
        self.diagnosed = any(names_pitfall(self.headlines.get(t, ""), self.pitfall) for t in failed)

    @property
    def headline(self) -> str:
        """The headline that names the pitfall, else the first failure's headline."""
        for text in self.headlines.values():
            if names_pitfall(text, self.pitfall):
                return text
        return next(iter(self.headlines.values()), "")


def selected(path: Path) -> bool:
    words = [w.strip().lower() for w in os.environ.get("MFX_MUTANTS", "").split(",") if w.strip()]
    return not words or any(w in path.stem.lower() for w in words)


def load_mutants(patches: Path) -> List[Mutant]:
    """Every patch in ``patches`` (``MFX_MUTANTS`` selects), checked for its header and kept small (1-5 lines each way)."""
    mutants = []
    for path in sorted(patches.glob("*.patch")):
        if not selected(path):
            continue
        lines = path.read_text().splitlines()
        match = HEADER.match(lines[0]) if lines else None
        assert match, f"{path.name}: first line must be '# mfx-mutation: pitfall=<id> expect=<test>[,<test>]'"
        assert match["pitfall"] in PITFALLS, f"{path.name}: pitfall {match['pitfall']!r} is not in the catalogue (mfx/pitfalls.py)"
        assert pitfall_of_name(path.name) == match["pitfall"], (
            f"{path.name}: the file name must start with the pitfall of its header ({match['pitfall'].lower()}_...)"
        )
        why = lines[1].lstrip("# ").strip() if len(lines) > 1 and lines[1].startswith("#") else ""
        changed = [ln for ln in lines if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
        assert 1 <= len(changed) <= 10, f"{path.name}: keep mutations small (1-5 lines each way), got {len(changed)} changed lines"
        mutants.append(Mutant(path, match["pitfall"], match["expect"].split(","), why))
    return mutants


def outcomes_from_report(data_file: Path) -> Dict[str, str]:
    """Test name -> outcome from a ``compliance.json`` (a failed parametrisation wins)."""
    outcomes: Dict[str, str] = {}
    for row in json.loads(data_file.read_text())["capabilities"]:
        for test in row["tests"]:
            base = test["name"].split("[")[0]
            if test["outcome"] in ("failed", "error") or base not in outcomes:
                outcomes[base] = test["outcome"]
    return outcomes


def names_pitfall(headline: str, pid: str) -> bool:
    """Does ``headline`` name pitfall ``pid`` as an id (O2 is not O20, B1 is not B12)?"""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(pid)}(?![0-9])", headline or "") is not None


def headline_of(message: str) -> str:
    """The first line of a failure message, without the exception's class name."""
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return re.sub(r"^[\w.]*(Error|Failure|Exception|Failed)\w*: ", "", first)


def headlines_from_junit(xml_file: Path) -> Dict[str, str]:
    """Test name -> headline of its first failure or error in a JUnit XML report (``{}`` if unreadable)."""
    out: Dict[str, str] = {}
    try:
        root = ET.parse(xml_file).getroot()
    except (OSError, ET.ParseError):
        return out
    for case in root.iter("testcase"):
        base = case.get("name", "").split("[")[0]
        for tag in ("failure", "error"):
            node = case.find(tag)
            if node is not None and base not in out:
                out[base] = headline_of(node.get("message") or node.text or "")
    return out


def rates(mutants: List[Mutant]) -> str:
    """The kill rate and the diagnosis rate, as the reports and the test output print them."""
    evaluable = [m for m in mutants if m.result in ("killed", "SURVIVED")]
    killed = [m for m in evaluable if m.result == "killed"]
    diagnosed = [m for m in killed if m.diagnosed]
    return (
        f"Kill rate: **{len(killed)}/{len(evaluable)}** evaluable mutants killed. "
        f"Diagnosis rate: **{len(diagnosed)}/{len(killed)}** killed mutants name their pitfall in a failure headline."
    )
