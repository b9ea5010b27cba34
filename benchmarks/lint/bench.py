"""Lint speed on the pinned third-party corpus: libcst parse-only, mfx cold / warm, Fixit.

Run from the repository (the lead wires it into ``nox -s bench``)::

    python benchmarks/lint/bench.py [--json OUT] [--skip-fixit] [--sweep]

Measures, each as wall-clock seconds of a fresh process (interpreter start included):

* ``parse``: read + ``libcst.parse_module`` every file, one process, nothing else;
* ``parse_parallel``: the same over a process pool with one worker per core (what mfx's cold
  run can use);
* ``mfx_cold``: ``mfx check --no-cache`` over the corpus, every enabled rule;
* ``mfx_warm``: the same with a populated cache and unchanged files;
* the same two for one ~3k-LOC extension (metaflow-temporal);
* ``fixit``: ``fixit lint`` with its built-in rules on the same files.

``--sweep`` also lints every ``.py`` of metaflow and its dependencies in this environment and
counts MFX999 internal errors (must be 0). Wheels are cached under ``~/.cache/mfx-bench``.
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


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    return time.perf_counter() - start, proc


def best_of(n: int, cmd: list[str], cwd: Path | None = None) -> float:
    times = []
    for _ in range(n):
        seconds, proc = timed(cmd, cwd)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd[:4])}...\n{proc.stderr[-2000:]}")
        times.append(seconds)
    return min(times)


def loc(files: list[Path]) -> int:
    return sum(len(f.read_text(errors="replace").splitlines()) for f in files)


def mfx(*args: str) -> list[str]:
    return [sys.executable, "-m", "mfx.cli", "check", "--exit-zero", "-q", *args]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=corpus.cache_root() / "bench-results.json")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the fast measurements")
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="also lint metaflow and its dependencies")
    args = parser.parse_args(argv)

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
    results["parse"] = best_of(args.repeat, [sys.executable, "-c", _PARSE, "1", *paths])
    results["parse_parallel"] = best_of(args.repeat, [sys.executable, "-c", _PARSE, str(cores), *paths])
    results["mfx_cold"] = best_of(1, mfx("--no-cache", str(root)), root)
    with tempfile.TemporaryDirectory(prefix="mfx-bench-cache-") as cache:
        best_of(1, mfx("--cache-dir", cache, str(root)), root)
        results["mfx_warm"] = best_of(args.repeat, mfx("--cache-dir", cache, str(root)), root)
    small_dir = dirs[SMALL]
    results["small_cold"] = best_of(1, mfx("--no-cache", str(small_dir)), small_dir)
    with tempfile.TemporaryDirectory(prefix="mfx-bench-cache-") as cache:
        best_of(1, mfx("--cache-dir", cache, str(small_dir)), small_dir)
        results["small_warm"] = best_of(args.repeat, mfx("--cache-dir", cache, str(small_dir)), small_dir)
    fixit = Path(sys.executable).with_name("fixit")
    if not args.skip_fixit and fixit.exists():
        results["fixit"] = best_of(1, [str(fixit), "lint", *paths], root)
    results["ratio_cold_to_parse"] = results["mfx_cold"] / results["parse"]
    results["ratio_cold_to_parse_parallel"] = results["mfx_cold"] / results["parse_parallel"]
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


def print_table(r: dict) -> None:
    rows = [
        ("corpus", f"{r['files']} files, {r['loc']} LOC, {r['cores']} cores"),
        ("libcst parse only (1 process)", f"{r['parse']:.2f} s"),
        (f"libcst parse only ({r['cores']} processes)", f"{r['parse_parallel']:.2f} s"),
        ("mfx cold (no cache)", f"{r['mfx_cold']:.2f} s  ({r['ratio_cold_to_parse']:.2f}x parse, {r['ratio_cold_to_parse_parallel']:.2f}x parallel parse; target <= 1.5x)"),
        ("mfx warm (cache, unchanged)", f"{r['mfx_warm']:.2f} s"),
        (f"{SMALL} ({r['small_loc']} LOC) cold", f"{r['small_cold']:.2f} s"),
        (f"{SMALL} ({r['small_loc']} LOC) warm", f"{r['small_warm']:.2f} s  (target <= 0.3 s)"),
    ]
    if "fixit" in r:
        rows.append(("fixit lint (builtin rules)", f"{r['fixit']:.2f} s  ({r['ratio_fixit_to_mfx_cold']:.2f}x mfx cold)"))
    if "sweep" in r:
        s = r["sweep"]
        rows.append(("sweep of installed packages", f"{s['seconds']:.1f} s, MFX999: {s['internal_errors']}, MFX000: {s['syntax_errors']}"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    sys.exit(main())
