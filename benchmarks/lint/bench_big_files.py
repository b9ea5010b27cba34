"""Big files: what one big module costs ``mfx check``, against what libcst's parse of it costs.

Run from the repository (``nox -s bench`` runs it)::

    python benchmarks/lint/bench_big_files.py [--out DIR] [--mb 1.0] [--skim-mb 4.0] [--repeat 3]

Two generated modules (``--skim-mb`` and ``--mb`` megabytes), of the shape published
orchestrators generate (many small functions with dict and list literals, strings and numbers):

* ``plain``: names none of the enabled rules' trigger words. mfx skims it (never hands it to
  libcst): the target is at most 0.1 s per MB over an empty run. The same for a YAML and a JSON
  document of the same size without a task command (``plain_yaml``, ``plain_json``: the shell
  command carriers of :mod:`mfx.engine.shellcode`, never parsed either).
* ``metaflow``: the same code plus a few lines that make every family of rules applicable
  (a click command, a ``step`` command list, ``os.environ``). The targets: at most 1.2x the time
  and 1.2x the peak memory of a process that only imports libcst and parses the file.

Each measurement of the module that needs libcst is a fresh process (``-j1 --no-cache``) that
reports its own CPU time and wall time around the work and its peak RSS; the best of
``--repeat`` runs is kept (each figure on its own). A skimmed file is measured as what it adds
to a run: one process runs ``mfx check`` on an empty project and on the skimmed one, alternately,
after a first run has done the imports, and the best times of each are subtracted (start-up and
imports vary more on a loaded machine than the skim costs). CPU time is the figure to compare
on a shared machine: wall time there includes the time other processes held the cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

#: Prints "<CPU seconds> <wall seconds> <peak RSS in KiB>" for the work only (imports excluded).
#: CPU time of this one process: on a shared machine wall time varies with the load, CPU time
#: much less (the run is -j1, so CPU time is the wall time of an idle machine).
_MEASURE = r"""
import resource, sys, time
what, path = sys.argv[1], sys.argv[2]
if what == "parse":
    import libcst
    text = open(path, encoding="utf-8").read()
    t, w = time.process_time(), time.perf_counter()
    libcst.parse_module(text)
else:
    from mfx.cli import main
    t, w = time.process_time(), time.perf_counter()
    code = main(["check", "--no-cache", "-j1", "--exit-zero", "-q", path])
seconds, wall = time.process_time() - t, time.perf_counter() - w
print(seconds, wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

#: Prints "<CPU seconds> <wall seconds>" of one skimmed project over an empty one: in one
#: process, after a first run has done every lazy import, the two alternate ``repeat`` times and
#: the best of each is kept. What a skimmed file adds to a run, without the noise of start-up
#: and imports (~0.6 s CPU, varying by +-0.1 s on a loaded machine: more than the skim itself).
_MEASURE_SKIM = r"""
import sys, time
from mfx.cli import main
empty, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
args = ["check", "--no-cache", "-j1", "--exit-zero", "-q"]
main(args + [empty])
best = {}
for _ in range(repeat):
    for p in (empty, path):
        t, w = time.process_time(), time.perf_counter()
        main(args + [p])
        seconds, wall = time.process_time() - t, time.perf_counter() - w
        cpu0, wall0 = best.get(p, (seconds, wall))
        best[p] = (min(cpu0, seconds), min(wall0, wall))
print(best[path][0] - best[empty][0], best[path][1] - best[empty][1])
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


#: Wall seconds of the last :func:`measure`, by label.
WALL: dict[str, float] = {}


def measure(what: str, path: Path, repeat: int, label: str = "") -> tuple[float, float]:
    """Best CPU seconds and best peak RSS (MiB) of ``repeat`` fresh processes (the best wall
    seconds go to ``WALL[label]``)."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _MEASURE, what, str(path)], capture_output=True, text=True, check=True)
        seconds, wall, rss = out.stdout.split()[-3:]
        runs.append((float(seconds), float(wall), int(rss) / 1024))
    if label:
        WALL[label] = min(w for _, w, _ in runs)
    return min(s for s, _, _ in runs), min(r for _, _, r in runs)


def measure_skim(empty: Path, path: Path, repeat: int) -> tuple[float, float]:
    """CPU and wall seconds ``path`` adds to a run over ``empty`` (:data:`_MEASURE_SKIM`)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE_SKIM, str(empty), str(path), str(max(repeat, 3) * 2)],
        capture_output=True, text=True, check=True,
    )
    cpu, wall = out.stdout.split()[-2:]
    return max(float(cpu), 0.0), max(float(wall), 0.0)


def generated_yaml(megabytes: float) -> str:
    """A CI/workflow-like YAML document with shell scripts but no task command (no ``--run-id``)."""
    chunks, size, i = ["jobs:\n"], 6, 0
    while size < megabytes * 1e6:
        chunk = (
            f"  - name: job-{i}\n    image: python:3.11\n    retries: {i % 4}\n"
            f"    script: |\n      pip install -r requirements-{i % 9}.txt\n      python run.py --shard {i} --out results/{i}.json\n"
        )
        chunks.append(chunk)
        size += len(chunk)
        i += 1
    return "".join(chunks)


def generated_json(megabytes: float) -> str:
    """A JSON document (a pipeline spec) of ``megabytes`` without a task command."""
    items, size, i = [], 2, 0
    while size < megabytes * 1e6:
        item = json.dumps({"id": f"node-{i}", "command": ["python", "run.py", "--shard", str(i)], "after": [f"node-{i - 1}"], "retries": i % 3})
        items.append(item)
        size += len(item) + 2
        i += 1
    return "[\n" + ",\n".join(items) + "\n]\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory for big-files.json")
    parser.add_argument("--mb", type=float, default=1.0, help="size of the module that needs libcst")
    parser.add_argument("--skim-mb", type=float, default=4.0, help="size of each skimmed file (the empty run's noise is divided by it)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    r: dict[str, float] = {"mb": args.mb, "skim_mb": args.skim_mb}
    with tempfile.TemporaryDirectory(prefix="mfx-bench-big-") as tmp:
        root = Path(tmp)
        (root / "empty").mkdir()
        (root / "empty" / "mod.py").write_text("x = 1\n")
        for name, header, mb in (("plain", "", args.skim_mb), ("metaflow", _HEADER, args.mb)):
            (root / name).mkdir()
            (root / name / "generated.py").write_text(generated(mb, header))
        (root / "plain_yaml").mkdir()
        (root / "plain_yaml" / "pipeline.yaml").write_text(generated_yaml(args.skim_mb))
        (root / "plain_json").mkdir()
        (root / "plain_json" / "pipeline.json").write_text(generated_json(args.skim_mb))
        for name, key in (("plain", "skim"), ("plain_yaml", "skim_yaml"), ("plain_json", "skim_json")):
            cpu, wall = measure_skim(root / "empty", root / name, args.repeat)
            r[f"{name}_s"], r[f"{name}_wall_s"] = cpu, wall
            r[f"{key}_s_per_mb"], r[f"{key}_wall_s_per_mb"] = cpu / args.skim_mb, wall / args.skim_mb
        r["parse_s"], r["parse_mib"] = measure("parse", root / "metaflow" / "generated.py", args.repeat, "parse")
        r["metaflow_s"], r["metaflow_mib"] = measure("mfx", root / "metaflow", args.repeat, "metaflow")
    r["wall"] = dict(WALL)
    r["ratio_time_to_parse"] = r["metaflow_s"] / r["parse_s"]
    r["ratio_wall_to_parse"] = WALL["metaflow"] / WALL["parse"]
    r["ratio_memory_to_parse"] = r["metaflow_mib"] / r["parse_mib"]
    r["skim_met"] = max(r["skim_s_per_mb"], r["skim_yaml_s_per_mb"], r["skim_json_s_per_mb"]) <= 0.1
    r["big_file_met"] = r["ratio_time_to_parse"] <= 1.2 and r["ratio_memory_to_parse"] <= 1.2

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    def skim(key: str, name: str) -> str:
        return (
            f"{r[key + '_s_per_mb']:.3f} s CPU per MB, {r[key + '_wall_s_per_mb']:.3f} s wall per MB over an empty run "
            f"(target <= 0.1: {met(r[key + '_s_per_mb'] <= 0.1)} in CPU time, {met(r[key + '_wall_s_per_mb'] <= 0.1)} in wall time)"
        )

    rows = [
        ("sizes", f"skimmed files {args.skim_mb:.2f} MB each, the module that needs libcst {args.mb:.2f} MB"),
        ("skimmed Python (no trigger word)", skim("skim", "plain")),
        ("skimmed YAML (no task command)", skim("skim_yaml", "plain_yaml")),
        ("skimmed JSON (no task command)", skim("skim_json", "plain_json")),
        ("libcst parse only", f"{r['parse_s']:.2f} s CPU ({WALL['parse']:.2f} s wall), {r['parse_mib']:.0f} MiB peak"),
        ("mfx check, rules applicable", f"{r['metaflow_s']:.2f} s CPU ({WALL['metaflow']:.2f} s wall), {r['metaflow_mib']:.0f} MiB peak"),
        ("ratio to the parse", f"{r['ratio_time_to_parse']:.2f}x CPU time ({r['ratio_wall_to_parse']:.2f}x wall), {r['ratio_memory_to_parse']:.2f}x memory (targets <= 1.2: {met(r['big_file_met'])})"),
    ]
    for label, value in rows:
        print(f"{label:<34} {value}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "big-files.json").write_text(json.dumps(r, indent=2) + "\n")
        print(f"\nwritten: {args.out / 'big-files.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
