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
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

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


# -- pieces every kill-rate check shares (the Airflow check uses them; see test_airflow_mutations.py) --


def apply_patch(repo: Path, patch_file: Path, reverse: bool = False) -> "subprocess.CompletedProcess[str]":
    """``patch -p1`` of ``patch_file`` in ``repo`` (``reverse``: take it out again)."""
    direction = ["-R"] if reverse else ["--forward"]
    cmd = ["patch", "-p1", "--batch", *direction, "--no-backup-if-mismatch", "-i", str(patch_file)]
    return subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def run_compliance(
    bin_dir: Path, repo: Path, tests: Sequence[str], report_dir: Path, env: Dict[str, str], *, run_timeout: float, timeout: float, log: Optional[Path] = None
) -> Tuple[Dict[str, str], Dict[str, str]]:
    """``<venv>/bin/mfx compliance -k "<tests>"`` on ``repo``: (test -> outcome, test -> failure headline).

    A run past ``timeout`` counts as "timeout" for each test, a run without a report as "no report".
    """
    cmd = [str(bin_dir / "mfx"), "compliance", "--project", str(repo), "--report-dir", str(report_dir),
           "-k", " or ".join(tests), "--mfx-run-timeout", str(int(run_timeout)), f"--basetemp={report_dir.with_name(report_dir.name + '-bt')}"]
    full_env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent), **env}
    with open(log or os.devnull, "w") as out:
        try:
            subprocess.run(cmd, cwd=repo, env=full_env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {t: "timeout" for t in tests}, {}
    headlines = headlines_from_junit(report_dir / "compliance.xml")
    data_file = report_dir / "compliance.json"
    if not data_file.exists():
        return {t: "no report" for t in tests}, headlines
    return outcomes_from_report(data_file), headlines


def settle(m: Mutant, baseline: Dict[str, str]) -> None:
    """Judge a mutant whose tests ran (``m.outcomes``): killed or SURVIVED through the tests that pass
    on the baseline, "not evaluable" when none does. Keeps a result set earlier (does not apply ...)."""
    if m.result != "not run":
        return
    usable = [t for t in m.expect if baseline.get(t) == "passed"]
    if not usable:
        m.result = "not evaluable"
        m.detail = "its tests fail on the unmutated preset: " + ", ".join(f"{t}={baseline.get(t, 'missing')}" for t in m.expect)
        return
    failed = [t for t in usable if m.outcomes.get(t) in ("failed", "error", "timeout")]
    m.result = "killed" if failed else "SURVIVED"
    m.judge(failed)
    m.detail = f"failed: {', '.join(failed)}" if failed else f"outcomes: {m.outcomes}"


def report_table(mutants: List[Mutant]) -> List[str]:
    """The per-mutant table of a kill-rate report."""
    lines = [
        "| patch | pitfall | what it breaks | expected to fail | result | diagnosed | headline | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in mutants:
        result = m.result + (f" ({m.detail})" if m.detail else "")
        diagnosed = {True: "yes", False: "**NO**", None: "-"}[m.diagnosed]
        headline = m.headline.replace("|", "\\|")[:200]
        lines.append(f"| `{m.path.name}` | {m.pitfall} | {m.why} | {', '.join(m.expect)} | {result} | {diagnosed} | {headline} | {m.seconds:.0f} |")
    return lines


def assert_all_killed_and_diagnosed(mutants: List[Mutant], text: str) -> None:
    """What every kill-rate check asserts: patches apply, nothing survives, at least half are
    evaluable, and every killed mutant names its pitfall in a failure headline."""
    broken = [f"{m.path.name}: {m.result} {m.detail}" for m in mutants if m.result in ("does not apply", "revert failed")]
    assert not broken, f"patches no longer apply cleanly to the generated preset (update them): {broken}\n{text}"
    survivors = [m.path.name for m in mutants if m.result == "SURVIVED"]
    assert not survivors, f"mutants not detected by the compliance suite: {survivors}\n{text}"
    killed = [m for m in mutants if m.result == "killed"]
    assert len(killed) * 2 >= len(mutants), f"fewer than half of the mutants are evaluable (is the preset broken?)\n{text}"
    misdiagnosed = [f"{m.path.name}: {m.headline}" for m in killed if not m.diagnosed]
    assert not misdiagnosed, f"killed, but no failure headline names the mutant's pitfall: {misdiagnosed}\n{text}"
