"""The one catalogue of known pitfalls of Metaflow extensions.

Every pitfall id used anywhere in this project comes from here: the ``pitfalls`` a lint rule
declares, the pitfalls a compliance capability checks and its failure messages cite, the
``# O21``-style comments of the template's plumbing, and the mutants that re-introduce a
pitfall into a preset. The test suite fails on an id this catalogue does not know, and
``docs/pitfalls.md`` is generated from it (``python tools/pitfalls_doc.py``).

Ids: ``O1``-``O32`` for orchestrators (Deployer providers), ``B1``-``B28`` for compute backends
(step decorators with a trampoline CLI). An id is never reused for another pitfall.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

ORCHESTRATOR = "orchestrator"
BACKEND = "backend"

#: A pitfall id as it is written in code, comments and docs: ``O21``, ``B3``.
ID_PATTERN = re.compile(r"\b([OB])([0-9]{1,2})\b")

#: Where the catalogue page lives, relative to the repository root.
DOC_PATH = "docs/pitfalls.md"

#: The published page; ``{anchor}`` is replaced. Override with ``MFX_PITFALLS_URL``.
DEFAULT_DOCS_URL = (
    "https://github.com/metaflow-extension-template/metaflow-extension-template/"
    "blob/main/docs/pitfalls.md#{anchor}"
)


@dataclass(frozen=True)
class Pitfall:
    """One known pitfall: a mistake extension authors make, with one root cause."""

    id: str
    kind: str  # ORCHESTRATOR | BACKEND
    title: str  # a few words, lower case: what goes wrong
    summary: str  # one sentence: the root cause and what it breaks

    @property
    def anchor(self) -> str:
        """The anchor of this pitfall's section in ``docs/pitfalls.md`` (``o21``)."""
        return self.id.lower()

    @property
    def number(self) -> int:
        return int(self.id[1:])

    def link(self, page: str = DOC_PATH) -> str:
        """``page#anchor``: a link to this pitfall from a page that reaches the catalogue as ``page``."""
        return f"{page}#{self.anchor}"

    @property
    def url(self) -> str:
        return os.environ.get("MFX_PITFALLS_URL", DEFAULT_DOCS_URL).format(anchor=self.anchor)


def _o(n: int, title: str, summary: str) -> Pitfall:
    return Pitfall(f"O{n}", ORCHESTRATOR, title, summary)


def _b(n: int, title: str, summary: str) -> Pitfall:
    return Pitfall(f"B{n}", BACKEND, title, summary)


_ALL: Tuple[Pitfall, ...] = (
    # -- orchestrators: Deployer providers ------------------------------------------------------
    _o(1, "attribute file never written",
       "create/trigger exit 0 on some path without writing `--deployer-attribute-file`, so the Deployer API waits out "
       "`file_read_timeout` (one hour)."),
    _o(2, "trigger attribute JSON lacks pathspec or uses another run id",
       "the trigger payload has no `pathspec`, or names a run id other than the one the tasks register, so "
       "`triggered.run` never appears."),
    _o(3, "CLI not registrable",
       "the `CLIS_DESC` target is not a vendored-click root group with exactly one sub-command named like TYPE, so "
       "Metaflow cannot load the CLI (and `--help` breaks for every flow)."),
    _o(4, "TYPE, desc key and CLI group name differ",
       "the Deployer TYPE, its registration key and the click group name must be one string; click turns a function "
       "`my_orch` into the group `my-orch`."),
    _o(5, "heavy imports at `import metaflow` time",
       "deployer and flow-decorator modules are imported by every `import metaflow`; a third-party import there breaks "
       "every flow wherever that package is missing."),
    _o(6, "self.deployer_kwargs assigned",
       "`DeployerImpl.deployer_kwargs` is a read-only property: assigning it raises AttributeError as soon as the "
       "provider is constructed."),
    _o(7, "trigger CLI without add_custom_parameters",
       "without `@parameters.add_custom_parameters(deploy_mode=False)` the click API rejects (or silently drops) flow "
       "parameters given to `trigger(...)`."),
    _o(8, "tuple passed to a multi-value click option",
       "the click API types a `multiple=True` option as `Tuple[T]` (one element), so a tuple of two or more values "
       "fails its type check; a list passes."),
    _o(9, "parameters not reaching init, dropped or coerced",
       "parameter values take a channel Metaflow never reads (there is no METAFLOW_PARAMETER_*), are dropped when "
       "falsy, or are re-encoded on their way to `init`."),
    _o(10, "config parameters passed to init as options",
       "`_get_parameters()` also yields Configs, which `init` has no option for; they travel through `--config-value` "
       "or METAFLOW_FLOW_CONFIG_VALUE."),
    _o(11, "config not propagated to every task",
       "config values reach only init or the start step, so every later task falls back to the config defaults "
       "(project name, `config_expr` attributes, mutators)."),
    _o(12, "@environment vars not injected",
       "@environment only hooks Metaflow's local runtime; a deployed task has its variables only if the orchestrator "
       "copies them into the task's environment."),
    _o(13, "--branch / --production not forwarded",
       "@project computes the branch in every task from the raw top-level `--branch`/`--production`; tasks started "
       "without them, or given the formatted name, use another branch."),
    _o(14, "METAFLOW_OWNER not set",
       "tasks compute a @project user branch from METAFLOW_OWNER and fall back to the worker's username, not the "
       "deploying user's."),
    _o(15, "retry count hard-coded, 1-based, or task id changing per attempt",
       "`--retry-count` must be the 0-based attempt of one task, and the task id must stay the same across that task's "
       "retries."),
    _o(16, "--max-user-code-retries missing or wrong",
       "@retry, @catch and @timeout read the user-code retry budget from it; the default 0 lets @catch fire on the "
       "first failure and disables @timeout on retries."),
    _o(17, "@timeout not enforced",
       "an outer limit computed from `seconds` alone, or a step run in-process where SIGALRM cannot fire, lets steps "
       "run past their @timeout."),
    _o(18, "input paths / split index built wrongly",
       "each kind of step (start, foreach child, join, switch merge) needs its own `--input-paths` and "
       "`--split-index`, which Metaflow's task validates."),
    _o(19, "forbidden characters or numeric ids",
       "`, : / !` delimit compressed input paths and numeric ids are taken as service-issued, so run and task ids need a "
       "prefix and sanitising."),
    _o(20, "init skipped, re-run, or custom start/end ignored",
       "`init` must run once per run (never again on a start retry) and the graph's real start/end step names must be "
       "used; `Run.finished` and the parameters depend on both."),
    _o(21, "datastore or metadata root differs between client and workers",
       "workers resolve the datastore root or the metadata provider themselves instead of receiving the deploy-time "
       "values, so the client never sees the run."),
    _o(22, "status missing or non-standard",
       "the base TriggeredRun has no `status`; without one in Metaflow's vocabulary a failed run looks like a running "
       "one until every wait times out."),
    _o(23, "from_deployment / get_triggered_run / list_deployed_flows not overridden",
       "the classmethods injected into DeployedFlow dispatch to Argo Workflows unless overridden, and a dotted flow "
       "name breaks the fake flow file of `from_deployment`."),
    _o(24, "trigger() blocks for the whole run",
       "the CLI runs the flow synchronously, or a background child keeps the CLI's stdout/stderr open, so `trigger()` "
       "waits for the whole run."),
    _o(25, "split-switch mishandled",
       "a switch step compiled as a static split or a linear step runs both branches or gives the merge two inputs."),
    _o(26, "unsupported feature not rejected",
       "a compiler that silently emits a different DAG for a graph shape or decorator it cannot run, instead of failing "
       "at deploy time with \"not supported\"."),
    _o(27, "@conda not materialised",
       "the step runs with the host interpreter instead of `environment.executable()` after "
       "`environment.bootstrap_commands()`."),
    _o(28, "dynamic decorators (--with) not forwarded",
       "decorators attached at deploy time (`--with`, decospecs) exist in a task only if its command repeats them with "
       "`--with`."),
    _o(29, "tags not propagated",
       "`--tag` is an option of `init`/`step`/`run` only, so `create(tags=...)` must be forwarded after the "
       "sub-command of each of them."),
    _o(30, "wheel without top_level.txt",
       "Metaflow finds installed extensions through `top_level.txt`; a wheel without it disappears once another "
       "extension is installed next to it."),
    _o(31, "upstream test harness conflicts",
       "the kit's and Metaflow's test/ux conftests cannot share one pytest process, `--scheduler-type` drops "
       "`deploy_args`, and test/ux forces a METAFLOW_PROFILE."),
    _o(32, "card root not the deploy-time datastore root",
       "a task's `card create` resolves its root from config or by searching up from its working directory, while "
       "the client reads `<ds-root>/mf.cards`; pass METAFLOW_CARD_<TYPE>ROOT derived from the deploy-time root."),
    # -- compute backends: step decorators with a trampoline CLI --------------------------------
    _b(1, "local datastore accepted",
       "a remote task exchanges everything through the datastore, so `step_init` must refuse `--datastore=local`."),
    _b(2, "CLI plugin shape / registration broken",
       "the trampoline CLI is not one named sub-group of its root group, the extension calls `process_plugins`, or "
       "`metaflow_extensions` is not a namespace package."),
    _b(3, "runtime_step_cli and the CLI disagree",
       "attributes are forwarded as options the trampoline does not declare, or the number of positional arguments "
       "differs."),
    _b(4, "runtime-injected options not accepted",
       "the runtime also passes `--clone-run-id` (resume), `--num-parallel` (@parallel) and `--ubf-context`; the step "
       "command must declare them."),
    _b(5, "inner step command built by hand",
       "the remote `step` command must be rebuilt from the launcher's top-level options (`dict_to_cli_options`), not "
       "assembled from literals that drop --with, configs and roots."),
    _b(6, "package not downloaded via get_package_commands",
       "the worker fetches the code package itself or without its metadata, so it runs its own Metaflow instead of the "
       "packaged one."),
    _b(7, "bootstrap assumptions about the worker",
       "the job script assumes `python` on PATH, a fresh working directory shared by nobody, or network access for "
       "installs."),
    _b(8, "environment bootstrap ignored",
       "the task script skips `environment.bootstrap_commands()` / `executable()`, so @conda, @pypi and uv steps run "
       "the base interpreter."),
    _b(9, "wrong conda target platform",
       "without `supports_conda_environment` and a `target_platform` of the workers, packages are resolved for the "
       "submitter's machine."),
    _b(10, "job environment incomplete or polluted",
       "the remote environment lacks METAFLOW_USER, service and datastore settings, @environment vars or the runtime "
       "marker, or carries the launcher's local sysroot."),
    _b(11, "credentials / CA / proxy not forwarded",
       "a job environment built from scratch must forward the datastore credentials and the CA and proxy settings the "
       "bootstrap needs."),
    _b(12, "local metadata not synced back",
       "with local metadata the remote task's `.metaflow` must be saved to the datastore and copied back by the "
       "trampoline, or the run looks unsuccessful."),
    _b(13, "metadata sync turns launch failures into retries",
       "an unguarded metadata sync before exit 202 raises on a first attempt, so the trampoline exits 1 and the launch "
       "failure is retried."),
    _b(14, "exit-code mapping wrong",
       "exit 202 (never retry) is for launch and kill failures only; user-code failures must exit otherwise so @retry "
       "applies."),
    _b(15, "hidden re-runs of the same attempt",
       "platform or queue retries re-run the same `--retry-count` behind the runtime's back."),
    _b(16, "minutes_between_retries ignored",
       "the retry delay is the trampoline's job; Metaflow's runtime starts the next attempt at once."),
    _b(17, "logs missing, late or duplicated",
       "the task script must capture logs into the datastore and save them periodically, and the trampoline must tail "
       "them instead of echoing raw output."),
    _b(18, "hard job limit preempts @timeout",
       "the platform limit must be the task's run-time limit plus slack, since it also counts queueing and bootstrap."),
    _b(19, "@resources ignored",
       "the backend must merge @resources' values (in `deco.attributes`, never `deco.cpu`) into its own request."),
    _b(20, "orphaned remote jobs",
       "sibling trampolines are SIGKILLed 5 s after a failure, so cleanup that relies on atexit alone never runs."),
    _b(21, "heavy or non-deterministic decorator import",
       "step decorator modules are imported by every process; an SDK import or computed `defaults` there break flows or "
       "differ between launcher and remote."),
    _b(22, "__init__ signature drift",
       "an overridden `__init__` that drops `inserted_by` fails when a StepMutator or `--with` adds the decorator."),
    _b(23, "remote-only hook code runs in the @catch fallback",
       "`task_*` hooks also run for the local fallback attempt, so remote-only work there must be guarded by the "
       "workload's environment variable."),
    _b(24, "extension only on PYTHONPATH",
       "an extension found only through PYTHONPATH is packaged as `_pythonpath_0`, which the uv bootstrap rejects."),
    _b(25, "huge --input-paths",
       "a wide join must receive its input paths through METAFLOW_INPUT_PATHS_<i> variables (30 KiB chunks), not on "
       "the command line."),
    _b(26, "signals and negative exit codes",
       "a negative returncode (death by signal) passed to `sys.exit` loses the signal; map it to 128 + signal."),
    _b(27, "unreachable datastore hangs the launcher",
       "with the object store down, Metaflow's S3 client retries for many minutes without a word; probe the datastore "
       "root with a bounded timeout before submitting anything and name the endpoint in one clear error."),
    _b(28, "remote task unknown to its own local metadata",
       "with local metadata the launcher registers run and task, so in the job `Task(pathspec)` (what @card's "
       "`card create` calls) fails with \"does not exist\" unless the task registers them without overwriting."),
)

#: Every pitfall by id, orchestrators first, in numeric order.
PITFALLS: Dict[str, Pitfall] = {p.id: p for p in _ALL}


def all_pitfalls(kind: Optional[str] = None) -> Tuple[Pitfall, ...]:
    """The catalogue, or the pitfalls of one kind, in catalogue order."""
    return tuple(p for p in _ALL if kind is None or p.kind == kind)


def get(pid: str) -> Pitfall:
    """The pitfall ``pid`` (``"O21"``, case-insensitive); KeyError names the known range."""
    pitfall = PITFALLS.get(pid.strip().upper())
    if pitfall is None:
        raise KeyError(f"unknown pitfall id {pid!r}: the catalogue has O1-O{len(all_pitfalls(ORCHESTRATOR))} and "
                       f"B1-B{len(all_pitfalls(BACKEND))}")
    return pitfall


def split_ids(spec: str) -> List[str]:
    """``"O2,O21"`` / ``"O2/O21"`` / ``"O2 O21"`` -> ``["O2", "O21"]`` (the form failure messages use)."""
    return [p for p in re.split(r"[\s,/;]+", spec) if p]


def unknown(ids: Iterable[str]) -> List[str]:
    """The ids of ``ids`` the catalogue does not know, in order."""
    return [p for p in ids if p not in PITFALLS]


def cited(text: str) -> List[str]:
    """Every pitfall-shaped id written in ``text`` (known or not), in order of appearance."""
    return [m.group(0) for m in ID_PATTERN.finditer(text)]


def sort_key(pid: str) -> Tuple[int, int]:
    """Orchestrator ids before backend ids, numerically: O2 < O10 < B1."""
    return (0 if pid[:1] == "O" else 1, int(pid[1:]) if pid[1:].isdigit() else 0)
