"""The mutant patch files shared by the orchestrator and backend kill-rate checks.

Each patch under tests/mutations/<kind>/ starts with
`# mfx-mutation: pitfall=<id> expect=<test>[,<test>]` and an optional `# why` line. The id is one
of the pitfall catalogue (mfx/pitfalls.py), and the file name starts with it (`o12_...`,
`b01_...`), so a listing of the directory says which pitfalls have a mutant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

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


def load_mutants(patches: Path) -> List[Mutant]:
    """Every patch in ``patches``, checked for its header and kept small (1-5 lines each way)."""
    mutants = []
    for path in sorted(patches.glob("*.patch")):
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
