"""Big files: what one big module costs ``mfx check``, against what libcst's parse of it costs.

Run from the repository (``nox -s bench`` runs it)::

    python benchmarks/lint/bench_big_files.py [--out DIR] [--mb 1.0] [--repeat 3]

Two generated modules of ``--mb`` megabytes each, of the shape published orchestrators generate
(many small functions with dict and list literals, strings and numbers):

* ``plain``: names none of the enabled rules' trigger words. mfx skims it (never hands it to
  libcst): the target is at most 0.1 s per MB over an empty run.
* ``metaflow``: the same code plus a few lines that make every family of rules applicable
  (a click command, a ``step`` command list, ``os.environ``). The targets: at most 1.2x the time
  and 1.2x the peak memory of a process that only imports libcst and parses the file.

Each measurement is a fresh process (``-j1 --no-cache``) that reports its own CPU time around
the work and its peak RSS; the best of ``--repeat`` runs is kept. An empty project measured the
same way is the baseline subtracted from the skim time (interpreter start and imports).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

#: Prints "<CPU seconds> <peak RSS in KiB>" for the work only (imports excluded from the seconds).
#: CPU time of this one process: on a shared machine wall time varies with the load, CPU time
#: much less (the run is -j1, so CPU time is the wall time of an idle machine).
_MEASURE = r"""
import resource, sys, time
what, path = sys.argv[1], sys.argv[2]
if what == "parse":
    import libcst
    text = open(path, encoding="utf-8").read()
    t = time.process_time()
    libcst.parse_module(text)
else:
    from mfx.cli import main
    t = time.process_time()
    code = main(["check", "--no-cache", "-j1", "--exit-zero", "-q", path])
seconds = time.process_time() - t
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

_HEADER = '''import os
import click


@click.command()
def step(flow_file, run_id, task_id):
    cmd = ["python", flow_file, "step", "start", "--run-id", run_id, "--task-id", task_id, "--retry-count", "0"]
    env = {"METAFLOW_USER": os.environ.get("USER", "")}
    return cmd, env

'''


def generated(megabytes: float, header: str = "") -> str:
    chunks, size, i = [header], len(header), 0
    while size < megabytes * 1e6:
        chunk = (
            f"def handler_{i}(payload, retries=3):\n"
            f"    table = {{'key_{i}': [payload, retries, {i}], 'label': \"handler number {i}\"}}\n"
            f"    if payload is None:\n        return table['key_{i}'][2] * retries\n"
            f"    return [table, ('a', 'b', {i % 7}), {{'nested': {{'depth': {i % 5}}}}}]\n\n\n"
        )
        chunks.append(chunk)
        size += len(chunk)
        i += 1
    return "".join(chunks)


def measure(what: str, path: Path, repeat: int) -> tuple[float, float]:
    """Best seconds and best peak RSS (MiB) of ``repeat`` fresh processes."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _MEASURE, what, str(path)], capture_output=True, text=True, check=True)
        seconds, rss = out.stdout.split()[-2:]
        runs.append((float(seconds), int(rss) / 1024))
    return min(s for s, _ in runs), min(r for _, r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory for big-files.json")
    parser.add_argument("--mb", type=float, default=1.0, help="size of each generated module")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    r: dict[str, float] = {"mb": args.mb}
    with tempfile.TemporaryDirectory(prefix="mfx-bench-big-") as tmp:
        root = Path(tmp)
        (root / "empty").mkdir()
        (root / "empty" / "mod.py").write_text("x = 1\n")
        for name, header in (("plain", ""), ("metaflow", _HEADER)):
            (root / name).mkdir()
            (root / name / "generated.py").write_text(generated(args.mb, header))
        r["empty_s"], _ = measure("mfx", root / "empty", args.repeat)
        r["plain_s"], r["plain_mib"] = measure("mfx", root / "plain", args.repeat)
        r["parse_s"], r["parse_mib"] = measure("parse", root / "metaflow" / "generated.py", args.repeat)
        r["metaflow_s"], r["metaflow_mib"] = measure("mfx", root / "metaflow", args.repeat)
    r["skim_s_per_mb"] = max(r["plain_s"] - r["empty_s"], 0.0) / args.mb
    r["ratio_time_to_parse"] = r["metaflow_s"] / r["parse_s"]
    r["ratio_memory_to_parse"] = r["metaflow_mib"] / r["parse_mib"]
    rows = [
        ("module size", f"{args.mb:.2f} MB each"),
        ("skimmed (no trigger word)", f"{r['skim_s_per_mb']:.3f} s per MB over an empty run (target <= 0.1; {r['plain_s']:.3f} s vs {r['empty_s']:.3f} s)"),
        ("libcst parse only", f"{r['parse_s']:.2f} s, {r['parse_mib']:.0f} MiB peak"),
        ("mfx check, rules applicable", f"{r['metaflow_s']:.2f} s, {r['metaflow_mib']:.0f} MiB peak"),
        ("ratio to the parse", f"{r['ratio_time_to_parse']:.2f}x time (target <= 1.2), {r['ratio_memory_to_parse']:.2f}x memory (target <= 1.2)"),
    ]
    for label, value in rows:
        print(f"{label:<32} {value}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "big-files.json").write_text(json.dumps(r, indent=2) + "\n")
        print(f"\nwritten: {args.out / 'big-files.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
