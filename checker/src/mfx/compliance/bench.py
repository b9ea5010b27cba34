"""Bench: orchestrated run time vs a local ``Runner`` run of the same flow.

``python -m mfx.compliance.bench --report reports/compliance.json [--out reports/bench.md]``
reads the run times the compliance suite recorded (init to last task end, from Metaflow
metadata), runs each successful flow once locally with ``Runner`` (same parameters, configs and
decospecs, local metadata and datastore in a temporary directory) and writes the ratio per flow.
Both durations come from the same metadata fields, so engine and worker start-up are excluded
on both sides; what remains is per-task scheduling overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence

if TYPE_CHECKING:
    from .runspec import Spec


def _local_seconds(spec: "Spec") -> Optional[float]:
    from metaflow import Runner

    from .harness import flow_path, run_duration

    with Runner(flow_path("orchestrator", spec.flow), show_output=False, env=spec.env, pylint=False, **spec.top_level).run(**spec.params) as running:
        return run_duration(running.run) if running.run is not None else None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfx.compliance.bench")
    parser.add_argument("--report", required=True, help="compliance.json written by mfx compliance")
    parser.add_argument("--out", default=None, help="Markdown output (default: next to the report, bench.md)")
    args = parser.parse_args(argv)
    report = Path(args.report)
    try:
        timings = json.loads(report.read_text())["timings"]
    except (OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"cannot read run times from {report}: {exc}\n")
        return 2
    from .runspec import suite_runs

    runs = suite_runs("orchestrator")  # each run as the test that waits for it declares it
    with tempfile.TemporaryDirectory() as root:
        os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = root
        os.environ["METAFLOW_DEFAULT_METADATA"] = "local"
        os.environ["METAFLOW_DEFAULT_DATASTORE"] = "local"
        os.environ.setdefault("METAFLOW_USER", "mfx-bench")
        rows: List[str] = []
        for t in timings:
            key, orchestrated = t.get("key"), t.get("run_seconds")
            if not key or t.get("status") != "SUCCEEDED" or not orchestrated:
                continue
            started = time.monotonic()
            try:
                local = _local_seconds(runs[key])
            except Exception as exc:  # one flow's failure must not lose the others' numbers
                rows.append(f"| {t['flow']} | {orchestrated:.1f} | error: {type(exc).__name__} | - |")
                continue
            ratio = f"{orchestrated / local:.2f}" if local else "-"
            rows.append(f"| {t['flow']} | {orchestrated:.1f} | {local:.2f} | {ratio} |" if local else f"| {t['flow']} | {orchestrated:.1f} | - | - |")
            sys.stderr.write(f"{t['flow']}: local run took {time.monotonic() - started:.0f} s\n")
    text = "\n".join(
        [
            "# Orchestrated vs local run time",
            "",
            f"From `{report.name}`: wall time of the compliance suite {json.loads(report.read_text()).get('wall_seconds', 0):.0f} s.",
            "",
            "| flow | orchestrated s | local Runner s | ratio |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    out = Path(args.out) if args.out else report.with_name("bench.md")
    out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
