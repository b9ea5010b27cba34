"""Metaflow's own UX suite (``test/ux/core`` of the Metaflow repository) against this extension.

``python -m mfx.compliance.ux [--project DIR] [--ux-source DIR] [--report-dir DIR] [pytest args...]``
(what a generated repository's ``nox -s ux`` runs):

1. the suite's source: ``--ux-source DIR`` (a Metaflow checkout, or its ``test/ux`` directory), else
   a cached sparse, shallow clone of the Metaflow repository at the tag of the installed Metaflow
   version (made on first use, bounded by a timeout). ``test/ux`` is in neither the wheel nor the
   sdist. Neither available: one message saying what is needed, exit 2;
2. a fresh copy of it in a work directory, its ``ux_test_config.yaml`` replaced by one backend:
   this extension's scheduler type (``[tool.mfx.compliance] plugin``) and ``deploy_args`` (no
   ``--scheduler-type`` override: that one drops ``deploy_args``, pitfall O31);
3. the devstack started as ``mfx compliance`` starts it (``MFX_DEVSTACK_ENV`` reuses a running one);
4. pytest in its own process (never next to the compliance suite: both register ``--decospecs``,
   O31), with ``METAFLOW_HOME`` / ``METAFLOW_PROFILE`` pointing at a profile written here (upstream's
   conftest otherwise points at its devtools profile), a non-root ``USER`` (Metaflow refuses root),
   the local datastore under the work directory (above the copied tree), and ``-m "not conda"`` when
   conda's channel is unreachable (as upstream's own CI deselects them);
5. ``ux.xml`` (JUnit) and ``ux.md`` (counts and failures) in the report directory; exit code pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

PROG = "mfx ux"
METAFLOW_REPO = "https://github.com/Netflix/metaflow.git"
CLONE_TIMEOUT = 60.0  # seconds for the whole sparse clone; a machine without GitHub fails fast
CONDA_PROBE = "https://conda.anaconda.org/conda-forge/noarch/repodata.json"
CONDA_TIMEOUT = 5.0
PROFILE = "mfx-ux"
NON_ROOT_USER = "mfx-ux"
WORK_DIR = ".mfx_ux"  # under the project; ignored by the generated .gitignore
TEST_TIMEOUT = 1800  # per upstream test: deployer-mode @retry tests wait out @retry's 2-minute delay


class UxError(Exception):
    """Something the user must provide or fix; the message says what (printed as one message, exit 2)."""


# -- where test/ux comes from --------------------------------------------------------------------


def metaflow_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("metaflow")
    except PackageNotFoundError:
        raise UxError("Metaflow is not installed in this environment: pip install -e . (it depends on metaflow)") from None


def cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where clones are kept: $MFX_UX_CACHE, else $XDG_CACHE_HOME/mfx/metaflow-ux, else ~/.cache/..."""
    if env.get("MFX_UX_CACHE"):
        return Path(env["MFX_UX_CACHE"]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "mfx" / "metaflow-ux"


def ux_tree(root: Path) -> Optional[Path]:
    """The ``test/ux`` directory in ``root`` (a Metaflow checkout, or that directory itself)."""
    for candidate in (root / "test" / "ux", root):
        if (candidate / "core").is_dir() and (candidate / "conftest.py").is_file():
            return candidate
    return None


def needs_message(version: str, detail: str) -> str:
    """The one message for "no test/ux available": what is missing and the two ways to provide it."""
    return (
        f"Metaflow's UX suite (test/ux of the Metaflow repository at tag {version}, the installed Metaflow) is "
        f"not available: {detail}. It is not in Metaflow's wheel or sdist. Either let this session clone it "
        f"(needs git and access to {METAFLOW_REPO}; the clone is cached), or check it out yourself and pass it: "
        f"git clone --depth 1 --branch {version} {METAFLOW_REPO} metaflow-src && "
        f"nox -s ux -- --ux-source metaflow-src"
    )


def sparse_clone(url: str, tag: str, dest: Path, timeout: float) -> None:
    """``test/ux`` of ``url`` at ``tag`` into ``dest`` (shallow, sparse, blobs on demand), bounded."""
    git = shutil.which("git")
    if git is None:
        raise UxError(needs_message(tag, "git is not on PATH"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{tag}-", dir=dest.parent))
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "GCM_INTERACTIVE": "never"}
    steps = [
        [git, "clone", "--quiet", "--depth", "1", "--filter=blob:none", "--sparse", "--no-tags", "--branch", tag,
         url, str(partial)],
        [git, "-C", str(partial), "sparse-checkout", "set", "test/ux"],
    ]
    import time

    deadline = time.monotonic() + timeout
    try:
        for cmd in steps:
            left = deadline - time.monotonic()
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env,
                                      timeout=max(left, 1.0))
            except subprocess.TimeoutExpired:
                raise UxError(needs_message(tag, f"cloning {url} did not finish in {timeout:.0f} s")) from None
            if proc.returncode != 0:
                said = " ".join((proc.stderr or proc.stdout).split())[-400:] or f"exit status {proc.returncode}"
                raise UxError(needs_message(tag, f"cloning {url} failed: {said}"))
        if ux_tree(partial) is None:
            raise UxError(needs_message(tag, f"the clone of {url} at {tag} has no test/ux/core"))
        if dest.exists():
            shutil.rmtree(dest)
        partial.rename(dest)  # only a complete clone ever lands at the cached path
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)


def resolve_source(
    given: Optional[str],
    version: str,
    env: Mapping[str, str] = os.environ,
    timeout: float = CLONE_TIMEOUT,
) -> Tuple[Path, str]:
    """The ``test/ux`` directory to use and where it came from (for the report)."""
    if given:
        root = Path(given).expanduser().resolve()
        if not root.is_dir():
            raise UxError(needs_message(version, f"--ux-source {given} is not a directory"))
        tree = ux_tree(root)
        if tree is None:
            raise UxError(needs_message(version, f"--ux-source {given} holds neither test/ux/core nor core/ + conftest.py"))
        return tree, f"--ux-source {root}"
    url = env.get("MFX_UX_REPO") or METAFLOW_REPO
    cached = cache_dir(env) / version
    tree = ux_tree(cached)
    if tree is not None:
        return tree, f"cached clone {cached} ({url} at {version})"
    sparse_clone(url, version, cached, timeout)
    tree = ux_tree(cached)
    assert tree is not None  # sparse_clone checked it
    return tree, f"clone of {url} at {version} (cached in {cached})"


# -- configuration and environment ---------------------------------------------------------------


def backend_entry(scheduler_type: str, deploy_args: Mapping[str, object], decospec: Optional[str] = None) -> Dict:
    """The one backend of ``ux_test_config.yaml``: this extension's Deployer TYPE and deploy args."""
    return {
        "name": scheduler_type,
        "scheduler_type": scheduler_type,
        "cluster": None,
        "decospec": decospec,
        "deploy_args": dict(deploy_args),
        "enabled": True,
    }


def write_config(ux_dir: Path, scheduler_type: str, deploy_args: Mapping[str, object]) -> Path:
    """Replace ``ux_test_config.yaml`` (read by upstream's conftest) with this extension's backend.

    Written as JSON, which is YAML: no YAML writer needed, and OmegaConf reads it.
    """
    path = ux_dir / "ux_test_config.yaml"
    header = (
        "# Written by mfx (python -m mfx.compliance.ux) for this run: the extension under test is the one backend.\n"
        "# From [tool.mfx.compliance] plugin (scheduler_type) and deploy_args of the extension's pyproject.toml.\n"
    )
    body = json.dumps({"backends": [backend_entry(scheduler_type, deploy_args)]}, indent=2, sort_keys=False)
    path.write_text(header + body + "\n", encoding="utf-8")
    return path


def non_root_user(env: Mapping[str, str]) -> str:
    """The user Metaflow will see: the current one unless it is root or unknown (Metaflow refuses those)."""
    for key in ("METAFLOW_USER", "USER", "USERNAME", "LOGNAME"):
        value = env.get(key)
        if value and value != "root":
            return value
    return NON_ROOT_USER


def ux_env(base: Mapping[str, str], work: Path, devstack_env: Mapping[str, str]) -> Dict[str, str]:
    """The environment of the pytest process: base + devstack, then this run's Metaflow home and profile.

    The devstack's variables (engine address, task queue, its datastore: its worker writes there)
    win over the local defaults; the profile file in METAFLOW_HOME holds the resulting settings.
    """
    home = work / "metaflow_home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in base.items() if not k.startswith("PYTEST_")}
    env.update(devstack_env)
    defaults = {
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DEFAULT_ENVIRONMENT": "local",
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(work / "datastore"),
    }
    # Upstream's core/conftest.py setdefault()s METAFLOW_HOME/METAFLOW_PROFILE to its devtools
    # profile; set here they win. The settings also go to the environment (env beats the profile).
    for key, value in defaults.items():
        env.setdefault(key, value)
    Path(env["METAFLOW_DATASTORE_SYSROOT_LOCAL"]).mkdir(parents=True, exist_ok=True)
    profile = {key: env[key] for key in defaults}
    (home / f"config_{PROFILE}.json").write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
    user = non_root_user(env)
    env.update({"METAFLOW_HOME": str(home), "METAFLOW_PROFILE": PROFILE, "USER": user, "USERNAME": user})
    if env.get("METAFLOW_USER") == "root":
        env["METAFLOW_USER"] = user
    return env


def tree_location(env: Mapping[str, str], work: Path) -> Path:
    """Where the copy of test/ux goes: under the local datastore root when there is one (cards are
    written relative to the working directory but looked up under the datastore root)."""
    if env.get("METAFLOW_DEFAULT_DATASTORE", "local") == "local" and env.get("METAFLOW_DATASTORE_SYSROOT_LOCAL"):
        return Path(env["METAFLOW_DATASTORE_SYSROOT_LOCAL"]) / "test-ux"
    return work / "test-ux"


def conda_reachable(url: str = CONDA_PROBE, timeout: float = CONDA_TIMEOUT) -> bool:
    """Can @conda's bootstrap reach its channel? (a bounded HEAD request)"""
    try:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=timeout):
            return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def marker_expression(user_args: Sequence[str], deselect_conda: bool) -> List[str]:
    """``-m`` for pytest: "not conda" (and-ed with the user's own -m, which is then taken out)."""
    args, theirs, i = [], None, 0
    user_args = list(user_args)
    while i < len(user_args):
        arg = user_args[i]
        if arg == "-m" and i + 1 < len(user_args):
            theirs, i = user_args[i + 1], i + 2
            continue
        if arg.startswith("-m") and len(arg) > 2 and not arg.startswith("-m="):
            theirs, i = arg[2:], i + 1
            continue
        args.append(arg)
        i += 1
    if deselect_conda:
        expr = f"not conda and ({theirs})" if theirs else "not conda"
    else:
        expr = theirs
    return (["-m", expr] if expr else []) + args


def pytest_command(ux_dir: Path, report_dir: Path, extra: Sequence[str], deselect_conda: bool) -> List[str]:
    """The UX suite's pytest command line (its own process, its own ini file and rootdir)."""
    ini = ux_dir / "pytest.ini"
    return [
        sys.executable, "-m", "pytest", str(ux_dir / "core"),
        f"--rootdir={ux_dir}", *(["-c", str(ini)] if ini.is_file() else []),
        "-p", "no:cacheprovider",
        "-p", "no:mfx_compliance",  # the compliance plugin never loads here (O31)
        f"--junitxml={report_dir / 'ux.xml'}",
        f"--timeout={TEST_TIMEOUT}",
        "-rfEs",
        # Metaflow's vendored PyYAML imports the top-level `_yaml` that PyYAML >= 6 deprecates: only that one.
        "-W", "ignore:The _yaml extension module is now located at yaml._yaml:DeprecationWarning:_yaml",
        *marker_expression(extra, deselect_conda),
    ]


# -- the report ----------------------------------------------------------------------------------


def summarize(junit: Path) -> Dict[str, object]:
    """Counts and failing test ids from the JUnit XML pytest wrote."""
    counts = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures: List[str] = []
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return {**counts, "failures": failures, "missing": True}
    for case in root.iter("testcase"):
        counts["tests"] += 1
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None:
            counts["failed"] += 1
            failures.append(name)
        elif case.find("error") is not None:
            counts["errors"] += 1
            failures.append(name)
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return {**counts, "failures": failures, "missing": False}


def write_report(report_dir: Path, summary: Mapping[str, object], source: str, scheduler_type: str,
                 conda_note: str, exit_code: int) -> Path:
    lines = [
        "# Metaflow UX suite (upstream test/ux/core)",
        "",
        f"- scheduler type: `{scheduler_type}`",
        f"- source: {source}",
        f"- {conda_note}",
        f"- pytest exit code: {exit_code}",
        "",
        "| tests | passed | failed | errors | skipped |",
        "|---|---|---|---|---|",
        f"| {summary['tests']} | {summary['passed']} | {summary['failed']} | {summary['errors']} | {summary['skipped']} |",
    ]
    if summary["failures"]:
        lines += ["", "Failed:", ""] + [f"- `{name}`" for name in summary["failures"]]  # type: ignore[union-attr]
    path = report_dir / "ux.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- entry point ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run Metaflow's upstream UX suite (test/ux/core) against this extension on its devstack.",
        epilog="Any other argument is passed to pytest, e.g. -k helloworld, -x.",
    )
    parser.add_argument("--project", default=".", help="extension repository with [tool.mfx.compliance] (default: .)")
    parser.add_argument("--ux-source", default=None,
                        help="a Metaflow checkout (or its test/ux directory) at the installed Metaflow's tag")
    parser.add_argument("--report-dir", default=None, help="where ux.xml and ux.md go (default: <project>/reports)")
    parser.add_argument("--conda", choices=("auto", "yes", "no"), default="auto",
                        help="run @conda tests: auto = only when conda's channel is reachable (default)")
    parser.add_argument("--clone-timeout", type=float, default=CLONE_TIMEOUT, help="seconds for the sparse clone")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    from .config import ConfigError, load
    from .devstack import Devstack, DevstackError, read_env

    args, extra = build_parser().parse_known_args(list(sys.argv[1:] if argv is None else argv))
    project = Path(args.project).resolve()
    try:
        cfg = load(project)
        if cfg.kind != "orchestrator":
            raise UxError(f"the UX suite tests orchestrators (Deployer providers); {project} is a {cfg.kind}")
        import importlib.util

        for needed in ("pytest", "pytest_timeout", "omegaconf"):
            if importlib.util.find_spec(needed) is None:
                raise UxError(f"{needed} is missing (upstream test/ux needs it): pip install pytest pytest-timeout omegaconf")
        version = metaflow_version()
        tree, source = resolve_source(args.ux_source, version, timeout=args.clone_timeout)
    except (ConfigError, UxError) as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return 2

    report_dir = Path(args.report_dir).resolve() if args.report_dir else project / "reports"
    report_dir.mkdir(parents=True, exist_ok=True)
    for old in ("ux.xml", "ux.md"):  # never report a previous run's results
        (report_dir / old).unlink(missing_ok=True)
    work = project / WORK_DIR
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    if args.conda == "auto":
        deselect = not conda_reachable(os.environ.get("MFX_UX_CONDA_URL") or CONDA_PROBE)
        conda_note = "@conda tests deselected (-m \"not conda\"): conda's channel is unreachable" if deselect \
            else "@conda tests selected: conda's channel is reachable"
    else:
        deselect = args.conda == "no"
        conda_note = f"@conda tests {'deselected' if deselect else 'selected'} (--conda {args.conda})"
    print(f"{PROG}: Metaflow {version} test/ux from {source}; {conda_note}", flush=True)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (CI cancel, `timeout`) unwinds like Ctrl-C: the devstack is stopped

    signal.signal(signal.SIGTERM, interrupted)
    devstack: Optional[Devstack] = None
    reuse = os.environ.get("MFX_DEVSTACK_ENV")
    try:
        if reuse:
            stack_env = read_env(Path(reuse))
        elif cfg.devstack:
            devstack = Devstack(cfg.devstack, project, work / "devstack")
            print(f"{PROG}: starting the devstack ({' '.join(cfg.devstack)} up)", flush=True)
            stack_env = devstack.up()
        else:
            stack_env = {}
    except (DevstackError, KeyboardInterrupt) as exc:
        problem = devstack.down() if devstack else None
        if isinstance(exc, KeyboardInterrupt):
            sys.stderr.write(f"{PROG}: interrupted while the devstack was starting\n")
            return 130
        sys.stderr.write(f"{PROG}: the devstack did not start: {exc}\n" + (f"(and stopping it: {problem})\n" if problem else ""))
        return 2
    try:
        env = ux_env(os.environ, work, stack_env)
        ux_dir = tree_location(env, work)
        shutil.copytree(tree, ux_dir, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
        config_path = write_config(ux_dir, cfg.plugin, cfg.deploy_args)
        print(f"{PROG}: backend {cfg.plugin!r} (deploy_args {cfg.deploy_args}) written to {config_path}", flush=True)
        cmd = pytest_command(ux_dir, report_dir, extra, deselect)
        print(f"{PROG}: {' '.join(cmd[1:])}", flush=True)
        code = subprocess.call(cmd, cwd=ux_dir, env=env, stdin=subprocess.DEVNULL)
    except KeyboardInterrupt:
        code = 130
    finally:
        problem = devstack.down() if devstack else None
        if problem:
            sys.stderr.write(f"{PROG}: stopping the devstack: {problem}\n")
    summary = summarize(report_dir / "ux.xml")
    if summary["missing"]:
        sys.stderr.write(f"{PROG}: pytest exited {code} without writing {report_dir / 'ux.xml'}\n")
        return code or 2
    md = write_report(report_dir, summary, source, cfg.plugin, conda_note, code)
    print(f"{PROG}: {summary['passed']} passed, {summary['failed']} failed, {summary['errors']} errors, "
          f"{summary['skipped']} skipped; report {md} and {report_dir / 'ux.xml'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
