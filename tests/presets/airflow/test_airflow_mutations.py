"""Mutation check (Airflow 3 preset, compiled model): re-introducing an orchestrator pitfall is caught.

Each ``tests/mutations/airflow/*.patch`` is a small unified diff against a freshly generated
``preset=airflow`` repository (paths relative to its root) whose first line is
``# mfx-mutation: pitfall=O15 expect=test_a,test_b`` (the pitfall and the compliance tests that must
fail) and whose second line says what it breaks (``mutations/mutants.py`` reads and checks them).
The patches hit both the user-owned ``engine.py`` (the DAG document, status map, trigger) and the
compiled-model plumbing every Airflow task runs (``task_entry``, ``task_command``, ``plan``).

One Airflow for everything: the session's devstack (conftest.py). Mutants run side by side in
*lanes*: a copy of the generated repository with its own editable venv, whose deployments carry a
lane prefix in their DAG ids (the preset's ``DAG_ID_PREFIX`` setting, so lanes never share a DAG).
No worker restarts: Airflow runs each task as ``<lane venv>/bin/python -m ...task_entry``, which
imports the patched plumbing afresh, and every test deploys its flow anew, so the DAG file carries
the patched ``engine.py``. Per mutant: apply the patch, run only the named tests (``mfx compliance
-k``, ``MFX_DEVSTACK_ENV``), revert; the longest mutants start first.

The baseline is the outcome of ``test_airflow_compliance.py`` when that e2e run happened earlier in
the same pytest session (``compliance/baselines.py``); otherwise baseline runs on unmutated lanes go
first in the queue. A mutant is evaluable only through tests that pass on the baseline. A killed
mutant is *diagnosed* when a failure headline names its pitfall. The kill rate (killed / evaluable)
and the diagnosis rate (diagnosed / killed) are printed and written to
``reports/mutation-kill-rate-airflow.md``; every evaluable mutant must be killed and diagnosed.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import pytest
from compliance.baselines import recorded
from mutations.mutants import (
    Mutant,
    apply_patch,
    assert_all_killed_and_diagnosed,
    load_mutants,
    rates,
    report_table,
    run_compliance,
    settle,
)
from support.airflow_devstack import MODULE_NAME
from support.generate import REPO, make_venv, render

pytestmark = pytest.mark.slow  # a real Airflow, generated repositories

PATCHES = REPO / "tests" / "mutations" / "airflow"
REPORT = REPO / "reports" / "mutation-kill-rate-airflow.md"
LANES = int(os.environ.get("MFX_MUTATION_LANES", "3"))  # Airflow's parallelism (4) bounds the tasks anyway
RUN_TIMEOUT = 300  # --mfx-run-timeout: every healthy run here ends far sooner, even on a busy machine
SUITE_TIMEOUT = 600  # one mutant's compliance run (a hung mutant still ends)
PREFIX_SETTING = "METAFLOW_%s_DAG_ID_PREFIX" % MODULE_NAME.upper()

# Dynamically detectable pitfalls left without an Airflow mutant, and why.
NOT_INCLUDED: Dict[str, str] = {
    "O1": "create's attribute file is written by the shared cli.py before any Airflow code runs; the Temporal check's "
    "o1 mutant covers that path, and here it would add the Deployer's 60 s wait for the file.",
    "O19": "the DAG file maps a run id Metaflow cannot use (numeric, delimiters) to a prefixed hash, so a numeric-id "
    "mutant of ids.py shows as another run id, which o2_run_id_prefixed_in_dag already covers.",
    "O11": "dropping METAFLOW_FLOW_CONFIG_VALUE from the step command (the Temporal mutant) is an equivalent mutant here: "
    "the task entry exports the deployment's env (the config value included) to every task it runs (O21), so the config "
    "still reaches each task; the Temporal check covers the shared task_command.py.",
    "O17": "@timeout: the compliance runs wait 120-230 s for the step to be stopped, which alone exceeds this check's "
    "budget; the plumbing's timeout handling is shared with the Temporal preset, whose e2e run covers it.",
    "O26": "unsupported shapes are refused by the shared plumbing (capabilities) before engine.py sees them.",
}

# Rough relative cost of a test's flows on Airflow (tasks, deliberate waits): longest first.
TEST_COST: Dict[str, int] = {
    "test_trigger_returns_before_run_ends": 6, "test_from_deployment_round_trip": 5, "test_retry_happens_before_catch": 5,
    "test_environment_vars_in_steps_and_foreach_bodies": 4, "test_foreach_fans_out_and_joins_in_order": 4,
    "test_switch_runs_only_chosen_branch": 4, "test_retry_is_zero_based_with_one_task": 4, "test_custom_start_and_end_names": 3,
}
DEFAULT_COST = 2


def cost(tests: List[str]) -> int:
    return max(TEST_COST.get(t, DEFAULT_COST) for t in tests) + len(tests) - 1


@dataclass
class Lane:
    """A repository copy with its own editable venv and DAG-id prefix."""

    repo: Path
    bin_dir: Path
    env_file: Path
    logs: Path

    def suite(self, tests: List[str], tag: str) -> tuple:
        report_dir = self.logs / f"report-{tag}"
        return run_compliance(self.bin_dir, self.repo, tests, report_dir, {"MFX_DEVSTACK_ENV": str(self.env_file)},
                              run_timeout=RUN_TIMEOUT, timeout=SUITE_TIMEOUT, log=self.logs / f"{tag}.log")

    def mutate(self, m: Mutant) -> None:
        started = time.monotonic()
        applied = apply_patch(self.repo, m.path)
        if applied.returncode != 0:
            m.result, m.detail = "does not apply", (applied.stdout + applied.stderr).strip().splitlines()[-1][:200]
            return
        try:
            m.outcomes, headlines = self.suite(m.expect, m.path.stem)
            m.headlines.update(headlines)
        finally:
            reverted = apply_patch(self.repo, m.path, reverse=True)
            m.seconds = time.monotonic() - started
            if reverted.returncode != 0:
                m.result, m.detail = "revert failed", (reverted.stdout + reverted.stderr)[-200:]


@pytest.fixture(scope="module")
def lanes(airflow_devstack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[List[Lane]]:
    root = tmp_path_factory.mktemp("airflow-mutations")
    base = render(root / "lane0", kind="orchestrator", preset="airflow")
    copies = [base]
    for i in range(1, max(1, LANES)):
        copies.append(root / f"lane{i}")
        shutil.copytree(base, copies[-1], ignore=shutil.ignore_patterns(".venv", "*.egg-info", "__pycache__"))
    with ThreadPoolExecutor(max_workers=len(copies)) as pool:  # venvs build concurrently (uv's shared cache)
        bins = list(pool.map(make_venv, copies))
    stack_env = airflow_devstack.env()
    built = []
    for i, (repo, bin_dir) in enumerate(zip(copies, bins)):
        # next to the devstack's env.json: the suite reads the devstack's logs from that folder
        env_file = airflow_devstack.state / f"mutation-lane{i}.json"
        env_file.write_text(json.dumps({**stack_env, PREFIX_SETTING: f"mutant{i}_"}))
        logs = root / f"logs{i}"
        logs.mkdir()
        built.append(Lane(repo, bin_dir, env_file, logs))
    yield built


def write_report(mutants: List[Mutant], baseline: Dict[str, str], wall: float, lanes: int, reused: bool) -> str:
    lines = [
        "# Mutation kill rate (orchestrator, Airflow 3 preset, compiled model)",
        "",
        f"{rates(mutants)} ({len(mutants)} patches; wall time {wall:.0f} s with {lanes} lanes).",
        "",
        "A mutant re-introduces one pitfall into the generated Airflow preset (its `engine.py` or the compiled-model plumbing",
        "its tasks run); it is killed when a named compliance test that passes on the unmutated preset fails, and diagnosed",
        "when that failure's headline names the pitfall. Patches: `tests/mutations/airflow/`.",
        "",
        *report_table(mutants),
        "",
        "Dynamically detectable pitfalls without an Airflow mutant:",
        "",
        *[f"* {pid}: {why}" for pid, why in sorted(NOT_INCLUDED.items())],
    ]
    source = "the e2e compliance run of this session" if reused else "run on unmutated lanes first"
    lines += ["", f"Baseline (unmutated preset, {source}): " + ", ".join(f"{t} {o}" for t, o in sorted(baseline.items())), ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    REPORT.write_text(text)
    return text


def test_each_airflow_mutant_is_killed(lanes: List[Lane]) -> None:
    mutants = load_mutants(PATCHES)
    assert mutants, f"no patches in {PATCHES}"
    both = sorted({m.pitfall for m in mutants} & set(NOT_INCLUDED))
    assert not both, f"pitfalls listed as without a mutant but with a patch: {both}"
    started = time.monotonic()
    expected = sorted({t for m in mutants for t in m.expect})
    e2e = recorded("airflow", expected)
    baseline: Dict[str, str] = dict(e2e or {})
    jobs: List[Callable[[Lane], None]] = []
    if e2e is None:  # this file run alone: the baseline first, spread over the lanes
        chunks = [expected[i :: len(lanes)] for i in range(len(lanes))]
        jobs += [lambda lane, tests=tests, i=i: baseline.update(lane.suite(tests, f"baseline{i}")[0]) for i, tests in enumerate(chunks) if tests]
    jobs += [lambda lane, m=m: lane.mutate(m) for m in sorted(mutants, key=lambda m: cost(m.expect), reverse=True)]
    free: "queue.Queue[Lane]" = queue.Queue()
    for lane in lanes:
        free.put(lane)

    def run(job: Callable[[Lane], None]) -> None:
        lane = free.get()
        try:
            job(lane)
        finally:
            free.put(lane)

    # the baseline jobs come first in the queue; the mutants' verdicts are settled once it is complete
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        list(pool.map(run, jobs))
    for m in mutants:
        settle(m, baseline)
    wall = time.monotonic() - started
    text = write_report(mutants, baseline, wall, len(lanes), reused=e2e is not None)
    print("\n" + text + f"\nAirflow mutation check: {wall:.0f} s")
    assert_all_killed_and_diagnosed(mutants, text)
