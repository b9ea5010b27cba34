"""Benchmark of the compute-backend variant: per-task overhead on Slurm and user-owned LOC.

Renders the Slurm preset, starts its devstack (munge + slurmctld + slurmd + moto), runs the same
small flow locally (S3 datastore, no --with) and on Slurm (--with slurm), and reports the extra
seconds per task. Also counts the lines a backend author writes (user-owned files) against the
template-owned plumbing. Writes backend.json and backend.md to --out.

    python benchmarks/backend/bench_slurm.py --out reports/bench [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from support.generate import make_venv, render  # noqa: E402
from support.loc import code_lines  # noqa: E402

FLOW = ROOT / "checker" / "src" / "mfx" / "compliance" / "flows" / "backend" / "linear_flow.py"
FLOW_TASKS = 2
SLURM = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol")


def timed_run(python: Path, args: List[str], env: Dict[str, str], cwd: Path) -> float:
    started = time.monotonic()
    done = subprocess.run([str(python), str(FLOW), "--no-pylint", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit("bench flow failed (%s):\n%s" % (" ".join(args), done.stderr[-3000:]))
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result: Dict[str, object] = {}

    with tempfile.TemporaryDirectory(prefix="mfx-bench-backend-") as tmp:
        base = Path(tmp)
        repo = render(base / "repo", kind="backend", preset="slurm")
        pkg = repo / "metaflow_extensions" / "slurm" / "plugins" / "slurm"
        user = {p.name: code_lines(p) for p in (pkg / "engine.py", pkg / "capabilities.py")}
        plumbing = {p.name: code_lines(p) for p in sorted((pkg / "backend").glob("*.py"))}
        result["loc"] = {"user_owned": user, "user_owned_total": sum(user.values()), "plumbing_total": sum(plumbing.values())}

        missing = [b for b in SLURM if not (shutil.which(b) or shutil.which(b, path="/usr/sbin:/usr/bin"))]
        if missing or os.geteuid() != 0:
            result["overhead"] = "skipped: needs root and Slurm (missing %s)" % missing
        else:
            bin_dir = make_venv(repo, extras=["moto[server]", "boto3"])
            python = bin_dir / "python"
            state = base / "stack"
            env = {**os.environ, "PATH": "%s%s%s" % (bin_dir, os.pathsep, os.environ.get("PATH", ""))}
            up = subprocess.run([str(python), "devstack/run.py", "up", "--state-dir", str(state)], cwd=repo, env=env, capture_output=True, text=True, timeout=240)
            if up.returncode != 0:
                raise SystemExit("devstack did not start:\n%s" % up.stderr[-2000:])
            try:
                env.update(json.loads((state / "env.json").read_text()))
                env.setdefault("METAFLOW_USER", "bench")
                work = base / "work"
                work.mkdir()
                local = min(timed_run(python, ["run"], env, work) for _ in range(args.repeat))
                slurm = min(timed_run(python, ["run", "--with", "slurm"], env, work) for _ in range(args.repeat))
                result["overhead"] = {
                    "flow": FLOW.name,
                    "tasks": FLOW_TASKS,
                    "local_seconds": round(local, 1),
                    "slurm_seconds": round(slurm, 1),
                    "overhead_per_task_seconds": round((slurm - local) / FLOW_TASKS, 1),
                }
            finally:
                subprocess.run([str(python), "devstack/run.py", "down", "--state-dir", str(state)], cwd=repo, env=env, capture_output=True, timeout=180)

    (out / "backend.json").write_text(json.dumps(result, indent=2))
    lines = ["# Backend bench (Slurm preset)", ""]
    ov = result["overhead"]
    if isinstance(ov, dict):
        lines.append("Per-task overhead on Slurm: **%.1f s** (%s, %d tasks: local %.1f s, Slurm %.1f s; best of %d)." % (
            ov["overhead_per_task_seconds"], ov["flow"], ov["tasks"], ov["local_seconds"], ov["slurm_seconds"], args.repeat))
    else:
        lines.append("Per-task overhead: %s" % ov)
    loc = result["loc"]
    lines.append("User-owned code of the Slurm preset: **%d** lines (%s); template-owned backend plumbing: %d lines." % (
        loc["user_owned_total"], ", ".join("%s %d" % kv for kv in loc["user_owned"].items()), loc["plumbing_total"]))
    (out / "backend.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
