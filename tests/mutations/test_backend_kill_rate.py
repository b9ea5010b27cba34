"""Mutation check (backend): re-introducing a compute-backend pitfall into the Slurm preset is caught.

Each ``backend/*.patch`` is a small unified diff against a freshly generated Slurm preset (paths
relative to the generated repo root) whose first line is
``# mfx-mutation: pitfall=B12 expect=test_metadata_visible`` (the pitfall and the compliance
tests that must fail) and whose second line says what it breaks.

One devstack (munge + slurmctld + slurmd + moto) serves everything. The plumbing is imported
fresh by every trampoline and task (the code package carries the editable extension), so no
restart is needed between mutants. Mutants run in parallel, each worker owning a copy of the
generated repo with its own editable venv: apply the patch, run the named tests
(``MFX_DEVSTACK_ENV``), revert; the longest mutants start first. The baseline is the outcome of
``tests/compliance/test_slurm_preset.py`` when that e2e run happened earlier in the same pytest
session (``compliance/baselines.py``); otherwise a baseline run on an unmutated copy runs
alongside. A mutant is evaluable only through tests that pass on the baseline. Pitfalls without a
patch are listed with the reason (``NOT_DETECTABLE``). A killed mutant is *diagnosed* when a
failure headline names its pitfall (``mutants.py``). The kill rate (killed / evaluable) and the
diagnosis rate (diagnosed / killed) are printed and written to
``reports/mutation-kill-rate-backend.md``; every killed mutant must be diagnosed.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
from compliance.baselines import recorded
from mutations.mutants import (
    Mutant,
    assert_all_killed_and_diagnosed,
    headlines_from_junit,
    outcomes_from_report,
    rates,
    report_table,
    settle,
)
from mutations.mutants import load_mutants as load_patches
from support.generate import REPO, make_venv, render, run

pytestmark = pytest.mark.slow  # starts real engines / runs generated repos

PATCHES = Path(__file__).resolve().parent / "backend"
REPORT = REPO / "reports" / "mutation-kill-rate-backend.md"
WORKERS = int(os.environ.get("MFX_MUTATION_WORKERS", "3"))
SUITE_TIMEOUT = 900  # one mutant's compliance run (a hung mutant still ends)
RUN_TIMEOUT = 600  # --mfx-run-timeout: every healthy run ends far sooner, even on a busy machine
SLURM_BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel", "sinfo")


# Backend pitfalls without a patch here, and why: a mutant must make a compliance test fail
# deterministically on the devstack's single-node Slurm within the CI budget.
NOT_DETECTABLE: Dict[str, str] = {
    "B18": "not dynamically detectable against Slurm: Slurm keeps time limits in whole minutes (the engine rounds up, "
    "so a limit with no slack is still >= 60 s) and enforces them from a periodic check plus KillWait; a short "
    "@timeout always fires first, a long one races the check (a flaky test). Covered by the static rule.",
    "B24": "not reproducible by a patch to the preset: it is a property of how the extension is installed "
    "(PYTHONPATH instead of a distribution), fixed by the template's packaging metadata; the uv-environment test "
    "fails on such an install (uv sync rejects the package name _pythonpath_0).",
    "B25": "not dynamically detectable within the CI budget: one --input-paths string only exceeds Linux's "
    "128 KiB per-argument limit for a join over ~4,400 tasks (~30 bytes per path); the split itself is exercised "
    "by every join (test_foreach_and_join).",
}


# Rough relative cost of the flows behind a test (Slurm tasks, deliberate waits): the longest
# mutants start first so the workers finish together (longest-processing-time-first scheduling).
TEST_COST: Dict[str, int] = {
    "test_minutes_between_retries": 5, "test_signal_death_is_retried": 5, "test_retry_zero_based_and_real": 5,
    "test_resume_on_backend": 4, "test_catch_records_user_error": 3, "test_timeout_fires_in_task": 3,
    "test_no_orphan_jobs": 3, "test_step_help_and_datastores": 0, "test_local_datastore_rejected": 0,
    "test_launch_failure_not_retried": 1, "test_uv_environment_bootstrapped": 1,
    "test_lines_reach_the_launcher_while_the_task_runs": 3, "test_dead_datastore_fails_fast_before_any_job": 4,
}
CONTRACT_COST = 3  # every other test reads the contract flow's run


def mutant_cost(m: Mutant) -> int:
    return max(TEST_COST.get(t, CONTRACT_COST) for t in m.expect)


def load_mutants() -> List[Mutant]:
    return load_patches(PATCHES)


@dataclass
class Workspace:
    """A copy of the generated repo with its own editable venv."""

    repo: Path
    bin_dir: Path

    def suite(self, tests: List[str], tag: str, env_file: Path, reports: Path, headlines: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """Run the named compliance tests; test name -> outcome from the JSON report (``headlines``:
        test name -> failure headline from the JUnit XML)."""
        report_dir = reports / f"report-{tag}"
        env = {
            **os.environ,
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(self.bin_dir.parent),
            "MFX_DEVSTACK_ENV": str(env_file),
        }
        cmd = [str(self.bin_dir / "mfx"), "compliance", "--project", str(self.repo), "--report-dir", str(report_dir),
               "-k", " or ".join(tests), "--mfx-run-timeout", str(RUN_TIMEOUT), f"--basetemp={reports / ('bt-' + tag)}"]
        with open(reports / f"{tag}.log", "w") as log:
            try:
                subprocess.run(cmd, cwd=self.repo, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=SUITE_TIMEOUT, check=False)
            except subprocess.TimeoutExpired:
                return {t: "timeout" for t in tests}
        data_file = report_dir / "compliance.json"
        if headlines is not None:
            headlines.update(headlines_from_junit(report_dir / "compliance.xml"))
        if not data_file.exists():
            return {t: "no report" for t in tests}
        return outcomes_from_report(data_file)

    def patch(self, patch_file: Path, reverse: bool = False) -> subprocess.CompletedProcess:
        cmd = ["patch", "-p1", "--batch", "--no-backup-if-mismatch", "-i", str(patch_file)]
        cmd.insert(3, "-R" if reverse else "--forward")
        return run(cmd, cwd=self.repo, timeout=30)


@dataclass
class Bench:
    workspaces: List[Workspace]
    env_file: Path
    reports: Path


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    missing = [b for b in SLURM_BINARIES if not (shutil.which(b) or shutil.which(b, path="/usr/sbin:/usr/bin"))]
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and Slurm + munge; missing: {missing}")
    root = tmp_path_factory.mktemp("backend-mutations")
    base = render(root / "w0", kind="backend", preset="slurm")
    copies = [base]
    for i in range(1, max(1, WORKERS)):
        copies.append(root / f"w{i}")
        shutil.copytree(base, copies[-1], ignore=shutil.ignore_patterns(".venv", "*.egg-info", "__pycache__"))
    with ThreadPoolExecutor(max_workers=len(copies)) as pool:  # venvs build concurrently (uv's shared cache)
        bins = list(pool.map(lambda repo: make_venv(repo, extras=["moto[server]", "boto3"]), copies))
    workspaces = [Workspace(repo, bin_dir) for repo, bin_dir in zip(copies, bins)]
    stack = root / "stack"
    python = str(workspaces[0].bin_dir / "python")
    env = {"PATH": f"{workspaces[0].bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    up = run([python, "devstack/run.py", "up", "--state-dir", str(stack)], cwd=base, env=env, timeout=240)
    assert up.returncode == 0, f"devstack did not start:\n{up.stdout}\n{up.stderr}"
    reports = root / "reports"
    reports.mkdir()
    try:
        yield Bench(workspaces, stack / "env.json", reports)
    finally:
        # mutants such as B20 leave jobs behind on purpose: cancel every job before the daemons stop
        slurm_env = {**env, "SLURM_CONF": str(stack / "slurm" / "slurm.conf")}
        run(["scancel", "--partition=debug"], cwd=base, env=slurm_env, timeout=60)
        time.sleep(5)
        run([python, "devstack/run.py", "down", "--state-dir", str(stack)], cwd=base, env=env, timeout=180)


def write_report(mutants: List[Mutant], baseline: Dict[str, str], wall: float, workers: int, reused: bool) -> str:
    lines = [
        "# Mutation kill rate (compute backend, Slurm preset)",
        "",
        f"{rates(mutants)} ({len(mutants)} patches; wall time {wall:.0f} s with {workers} parallel workers).",
        "",
        "A mutant re-introduces one pitfall into the generated Slurm preset; it is killed when a named compliance test that passes",
        "on the unmutated preset fails, and diagnosed when that failure's headline names the pitfall. Patches: `tests/mutations/backend/`.",
        "",
        *report_table(mutants),
    ]
    lines += ["", "Pitfalls without a mutant:", ""]
    lines += [f"* {pid}: {why}" for pid, why in sorted(NOT_DETECTABLE.items())]
    source = "the e2e compliance run of this session" if reused else "run alongside the mutants"
    lines += ["", f"Baseline (unmutated preset, {source}): " + ", ".join(f"{t} {o}" for t, o in sorted(baseline.items())), ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    REPORT.write_text(text)
    return text


def test_each_backend_mutant_is_killed(bench: Bench) -> None:
    mutants = load_mutants()
    assert mutants, f"no patches in {PATCHES}"
    both = sorted({m.pitfall for m in mutants} & set(NOT_DETECTABLE))
    assert not both, f"pitfalls listed as not detectable but with a patch: {both}"
    started = time.monotonic()
    expected = sorted({t for m in mutants for t in m.expect})
    free: "queue.Queue[Workspace]" = queue.Queue()
    for ws in bench.workspaces:
        free.put(ws)
    # the e2e compliance run of the unmutated preset earlier in this session is the baseline;
    # without it (this file run alone) the baseline runs here, alongside the mutants
    e2e = recorded("slurm", expected)
    reused = e2e is not None
    baseline: Dict[str, str] = e2e or {}

    def job(m: Optional[Mutant]) -> None:
        ws = free.get()
        try:
            if m is None:
                baseline.update(ws.suite(expected, "baseline", bench.env_file, bench.reports))
                return
            t0 = time.monotonic()
            applied = ws.patch(m.path)
            if applied.returncode != 0:
                m.result, m.detail = "does not apply", (applied.stdout + applied.stderr).strip().splitlines()[-1][:200]
                return
            try:
                m.outcomes = ws.suite(m.expect, m.path.stem, bench.env_file, bench.reports, m.headlines)
            finally:
                reverted = ws.patch(m.path, reverse=True)
                m.seconds = time.monotonic() - t0
                if reverted.returncode != 0:
                    m.result, m.detail = "revert failed", reverted.stdout[-200:]
        finally:
            free.put(ws)

    with ThreadPoolExecutor(max_workers=len(bench.workspaces)) as pool:
        # the baseline first: it is the longest job
        longest_first = sorted(mutants, key=mutant_cost, reverse=True)
        list(pool.map(job, ([] if reused else [None]) + longest_first))

    for m in mutants:
        settle(m, baseline)
    text = write_report(mutants, baseline, time.monotonic() - started, len(bench.workspaces), reused)
    print("\n" + text)
    assert_all_killed_and_diagnosed(mutants, text)
