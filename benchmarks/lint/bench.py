"""Lint speed on the pinned third-party corpus: libcst parse-only, mfx cold / warm, Fixit.

Run from the repository (the lead wires it into ``nox -s bench``)::

    python benchmarks/lint/bench.py [--out DIR | --json FILE] [--skip-fixit] [--sweep]

Measures, each as wall-clock seconds of a fresh process (interpreter start included):

* ``parse``: read + ``libcst.parse_module`` every file, one process, nothing else;
* ``parse_parallel``: the same over a process pool with one worker per core (what mfx's cold
  run can use);
* ``mfx_cold``: ``mfx check --no-cache`` over the corpus, every enabled rule;
* ``mfx_warm``: the same with a populated cache and unchanged files;
* the same two for one ~3k-LOC extension (metaflow-temporal);
* ``mfx_cold_serial``: ``mfx check --no-cache -j1`` (one process: the like-for-like comparison
  with ``parse``);
* ``mfx_cold_pool``: ``mfx check --no-cache -j<cores>`` (a process per core, whatever the load;
  the default ``-j 0`` uses every core less half the load average, so ``mfx_cold`` depends on
  the machine's load);
* ``mfx_cold_one_project_pool`` / ``mfx_cold_plain_pool``: the corpus taken as one project
  (``MFX_ONE_PROJECT=1``; a normal run lints its 12 projects side by side, one process each), its
  files split by the claim pool of ``mfx/engine/pool.py`` / by a plain
  ``concurrent.futures.ProcessPoolExecutor`` (``MFX_PARALLEL=pool``);
* ``fixit``: ``fixit lint`` with its built-in rules on the same files.

Every measurement also records the CPU seconds (user + system) of the process and its workers:
on a shared machine wall time varies with the load, CPU time much less.

The issue's target is ``mfx_cold <= 1.5 x parse`` (the single-process parse: its literal
baseline); the ratio to ``parse_parallel`` is reported too. Subprocesses run with bytecode
caching enabled (``PYTHONDONTWRITEBYTECODE`` removed, one warm-up run first), as users run them.

``--sweep`` also lints every ``.py`` of metaflow and its dependencies in this environment and
counts MFX999 internal errors (must be 0). Wheels are cached under ``~/.cache/mfx-bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "checker"))

import third_party_corpus as corpus  # noqa: E402

TIMEOUT = 1800
SMALL = "metaflow-temporal"  # ~2.8k LOC, the "3k-LOC extension" of the targets

_PARSE = r"""
import sys, time
from pathlib import Path
t = time.perf_counter()
import libcst as cst
files = [Path(p) for p in sys.argv[2:]]
def parse(p):
    try:
        cst.parse_module(Path(p).read_text())
    except Exception:
        pass
if sys.argv[1] == "1":
    for f in files:
        parse(f)
else:
    import multiprocessing as mp
    with mp.get_context("fork").Pool(int(sys.argv[1])) as pool:
        pool.map(parse, [str(f) for f in files], chunksize=1)
"""


#: Subprocess environment: bytecode caching on (a user's normal setup; CI images often set
#: PYTHONDONTWRITEBYTECODE, which makes every run recompile every imported module).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

#: CPU seconds of the last :func:`best_of` measurement, by label (filled as a side result).
CPU: dict[str, float] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the process and everything it waited for, result)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env={**ENV, **(env or {})})
    return time.perf_counter() - start, _children_cpu() - cpu, proc


def best_of(n: int, cmd: list[str], cwd: Path | None = None, label: str = "", env: dict | None = None) -> float:
    """Best wall time of ``n`` runs; the best CPU time goes to ``CPU[label]``."""
    times, cpus = [], []
    for _ in range(n):
        seconds, cpu, proc = timed(cmd, cwd, env)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd[:4])}...\n{proc.stderr[-2000:]}")
        times.append(seconds)
        cpus.append(cpu)
    if label:
        CPU[label] = min(cpus)
    return min(times)


def loc(files: list[Path]) -> int:
    return sum(len(f.read_text(errors="replace").splitlines()) for f in files)


def mfx(*args: str) -> list[str]:
    return [sys.executable, "-m", "mfx.cli", "check", "--exit-zero", "-q", *args]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=corpus.cache_root() / "bench-results.json")
    parser.add_argument("--out", type=Path, help="directory for the results (lint.json); nox -s bench passes it")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the fast measurements")
    parser.add_argument("--cold-repeat", type=int, default=1, help="best of N for the cold runs")
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="also lint metaflow and its dependencies")
    args = parser.parse_args(argv)
    if args.out is not None:
        args.json = args.out / "lint.json"

    dirs = corpus.corpus_dirs()
    root = corpus.cache_root() / "corpus"
    files = [f for d in dirs.values() for f in corpus.python_files(d)]
    small = corpus.python_files(dirs[SMALL])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    results: dict[str, object] = {
        "files": len(files), "loc": loc(files), "small_loc": loc(small), "cores": cores,
        "versions": corpus.PINNED,
    }
    paths = [str(f) for f in files]
    best_of(1, mfx("--no-cache", str(dirs[SMALL])), dirs[SMALL])  # warm-up: bytecode caches
    results["parse"] = best_of(args.repeat, [sys.executable, "-c", _PARSE, "1", *paths], label="parse")
    results["parse_parallel"] = best_of(args.repeat, [sys.executable, "-c", _PARSE, str(cores), *paths], label="parse_parallel")
    results["mfx_cold"] = best_of(args.cold_repeat, mfx("--no-cache", str(root)), root, label="mfx_cold")
    results["mfx_cold_serial"] = best_of(args.cold_repeat, mfx("--no-cache", "-j1", str(root)), root, label="mfx_cold_serial")
    results["mfx_cold_pool"] = best_of(args.cold_repeat, mfx("--no-cache", f"-j{cores}", str(root)), root, label="mfx_cold_pool")
    # The corpus is 12 projects, linted side by side (mfx/engine/projects.py). The pool that
    # splits ONE project's files (mfx/engine/pool.py, the claim pool) is measured on the corpus
    # taken as one big project (MFX_ONE_PROJECT=1), against a plain
    # concurrent.futures.ProcessPoolExecutor: the claim pool is kept only while the plain pool
    # is >10% slower.
    one = {"MFX_ONE_PROJECT": "1"}
    results["mfx_cold_one_project_pool"] = best_of(
        args.cold_repeat, mfx("--no-cache", f"-j{cores}", str(root)), root, label="mfx_cold_one_project_pool", env=one
    )
    results["mfx_cold_plain_pool"] = best_of(
        args.cold_repeat, mfx("--no-cache", f"-j{cores}", str(root)), root, label="mfx_cold_plain_pool", env={**one, "MFX_PARALLEL": "pool"}
    )
    results["ratio_plain_pool_to_claim_pool"] = results["mfx_cold_plain_pool"] / results["mfx_cold_one_project_pool"]
    results["load_average"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="mfx-bench-cache-") as cache:
        best_of(1, mfx("--cache-dir", cache, str(root)), root)
        results["mfx_warm"] = best_of(args.repeat, mfx("--cache-dir", cache, str(root)), root, label="mfx_warm")
    small_dir = dirs[SMALL]
    results["small_cold"] = best_of(args.cold_repeat, mfx("--no-cache", str(small_dir)), small_dir, label="small_cold")
    with tempfile.TemporaryDirectory(prefix="mfx-bench-cache-") as cache:
        best_of(1, mfx("--cache-dir", cache, str(small_dir)), small_dir)
        results["small_warm"] = best_of(args.repeat, mfx("--cache-dir", cache, str(small_dir)), small_dir, label="small_warm")
    fixit = Path(sys.executable).with_name("fixit")
    if not args.skip_fixit and fixit.exists():
        results["fixit"] = best_of(1, [str(fixit), "lint", *paths], root, label="fixit")
    results["cpu"] = dict(CPU)
    results["ratio_cold_to_parse"] = results["mfx_cold"] / results["parse"]
    results["ratio_cold_to_parse_parallel"] = results["mfx_cold"] / results["parse_parallel"]
    results["ratio_cold_serial_to_parse"] = results["mfx_cold_serial"] / results["parse"]
    results["ratio_cold_cpu_to_parse_cpu"] = CPU["mfx_cold_serial"] / CPU["parse"]
    if "fixit" in results:
        results["ratio_fixit_to_mfx_cold"] = results["fixit"] / results["mfx_cold"]
    if args.sweep:
        results["sweep"] = sweep()
    print_table(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {args.json}")
    return 0


def sweep() -> dict[str, object]:
    import importlib.util

    targets = []
    for name in ("metaflow", "boto3", "botocore", "requests", "urllib3"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            targets.append(list(spec.submodule_search_locations)[0])
    seconds, proc = timed([sys.executable, "-m", "mfx.cli", "check", "--no-cache", "--exit-zero", "--statistics", "--output-format", "json", *targets])
    stats = json.loads(proc.stdout or "[]")
    counts = {s["code"]: s["count"] for s in stats}
    return {"seconds": seconds, "packages": targets and [Path(t).name for t in targets], "internal_errors": counts.get("MFX999", 0), "syntax_errors": counts.get("MFX000", 0)}


def _met(r: dict, key: str, limit: float) -> str:
    """Whether a time target is met, in wall time and in CPU time (the comparable figure on a
    shared machine: the CPU seconds of the process and its workers)."""
    cpu = r.get("cpu", {}).get(key)
    wall = "met" if r[key] <= limit else "NOT met"
    return wall + " in wall time" + ("" if cpu is None else f", {'met' if cpu <= limit else 'NOT met'} in CPU time")


def print_table(r: dict) -> None:
    cpu = r.get("cpu", {})

    def t(key: str) -> str:
        return f"{r[key]:.2f} s wall, {cpu[key]:.2f} s CPU" if key in cpu else f"{r[key]:.2f} s wall"

    rows = [
        ("corpus", f"{r['files']} files, {r['loc']} LOC, {r['cores']} cores"),
        ("libcst parse only (1 process)", t("parse")),
        (f"libcst parse only ({r['cores']} processes)", t("parse_parallel")),
        ("mfx cold (no cache)", f"{t('mfx_cold')}  = {r['ratio_cold_to_parse']:.2f}x parse (target <= 1.5x), {r['ratio_cold_to_parse_parallel']:.2f}x parallel parse"),
        ("mfx cold, one process (-j1)", f"{t('mfx_cold_serial')}  = {r['ratio_cold_serial_to_parse']:.2f}x parse wall, {r['ratio_cold_cpu_to_parse_cpu']:.2f}x parse CPU"),
        (f"mfx cold, {r['cores']} workers (-j{r['cores']})", f"{t('mfx_cold_pool')}  = {r['mfx_cold_pool'] / r['parse']:.2f}x parse, {r['mfx_cold_pool'] / r['parse_parallel']:.2f}x parallel parse"),
        (f"corpus as one project, claim pool (-j{r['cores']})", t("mfx_cold_one_project_pool")),
        (f"corpus as one project, plain pool (-j{r['cores']})", f"{t('mfx_cold_plain_pool')}  = {r['ratio_plain_pool_to_claim_pool']:.2f}x the claim pool (kept while > 1.10x)"),
        ("load average during the run", f"{r['load_average']:.1f}" if r.get("load_average") is not None else "n/a"),
        ("mfx warm (cache, unchanged)", t("mfx_warm")),
        (f"{SMALL} ({r['small_loc']} LOC) cold", f"{t('small_cold')}  (target <= 1.5 s: {_met(r, 'small_cold', 1.5)})"),
        (f"{SMALL} ({r['small_loc']} LOC) warm", f"{t('small_warm')}  (target <= 0.2 s: {_met(r, 'small_warm', 0.2)})"),
        ("corpus cold <= 1.5x parse (1 process)", f"wall {r['ratio_cold_to_parse']:.2f}x: {'met' if r['ratio_cold_to_parse'] <= 1.5 else 'NOT met'}"),
    ]
    if "fixit" in r:
        rows.append(("fixit lint (builtin rules)", f"{t('fixit')}  = {r['ratio_fixit_to_mfx_cold']:.2f}x mfx cold"))
    rows.append(("baseline of the 1.5x target", "libcst parse only, 1 process (the issue's literal baseline)"))
    if "sweep" in r:
        s = r["sweep"]
        rows.append(("sweep of installed packages", f"{s['seconds']:.1f} s, MFX999: {s['internal_errors']}, MFX000: {s['syntax_errors']}"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    sys.exit(main())
