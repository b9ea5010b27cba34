"""The capability registry: what the compliance suite can check, and which checks are mandatory.

A capability is a kebab-case id. Tests carry ``@pytest.mark.capability("<id>")``. REQUIRED
capabilities are always exercised (a provider that cannot do them is broken); OPTIONAL ones run
only when the extension lists the id in its own ``CAPABILITIES`` (see
``[tool.mfx.compliance] capabilities``), otherwise the test is skipped with the reason.

Orchestrator and backend capabilities share this registry; ``kind`` separates them so one
plugin serves both extension kinds. The backend ids are added by the backend part of the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

REQUIRED = "required"
OPTIONAL = "optional"
ORCHESTRATOR = "orchestrator"
BACKEND = "backend"


@dataclass(frozen=True)
class Capability:
    """One checkable behaviour of an extension."""

    id: str
    kind: str  # ORCHESTRATOR | BACKEND
    level: str  # REQUIRED | OPTIONAL
    title: str
    pitfalls: Tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.level == REQUIRED


def _orch(cid: str, level: str, title: str, *pitfalls: str) -> Capability:
    return Capability(cid, ORCHESTRATOR, level, title, tuple(pitfalls))


_ORCHESTRATOR = (
    _orch("create", REQUIRED, "create() returns a deployment with a name within 60 s", "O1", "O3", "O4", "O6", "O30"),
    _orch("trigger-async", REQUIRED, "trigger() returns before the run finishes", "O24"),
    _orch("status", REQUIRED, "TriggeredRun.status uses Metaflow's vocabulary and reaches SUCCEEDED", "O2", "O21", "O22"),
    _orch("status-failed", REQUIRED, "a failing run reports FAILED", "O22"),
    _orch("linear", REQUIRED, "a linear flow runs, data flows between steps", "O18", "O20", "O21"),
    _orch("branch", REQUIRED, "a static split and join", "O18"),
    _orch("split-in-branch", REQUIRED, "a split inside a branch, with custom start/end names", "O18", "O20"),
    _orch("foreach", REQUIRED, "foreach fan-out with one task per item and an ordered join", "O18"),
    _orch("multi-body-foreach", REQUIRED, "a foreach whose body has several steps", "O18"),
    _orch("parameters", REQUIRED, "every Parameter type reaches init, incl. reserved names like retry_count", "O7", "O8", "O9"),
    _orch("configs", REQUIRED, "Config values reach EVERY task (end-step project name and system tags)", "O10", "O11"),
    _orch("environment-vars", REQUIRED, "@environment vars in every task, incl. foreach bodies and config_expr", "O12"),
    _orch("project-branch", REQUIRED, "@project --branch reaches every task", "O13"),
    _orch("production-branch", REQUIRED, "@project --production reaches every task", "O13"),
    _orch("user-branch", REQUIRED, "@project user branch uses the deploying user (METAFLOW_OWNER)", "O14"),
    _orch("tags", REQUIRED, "create(tags=...) reach the run", "O29"),
    _orch("retry", REQUIRED, "native retries with a 0-based retry count and one task id per step", "O15"),
    _orch("catch", REQUIRED, "@catch runs the user code and records its error", "O16"),
    _orch("retry-with-catch", REQUIRED, "@retry + @catch retries before catching", "O15", "O16"),
    _orch("timeout", REQUIRED, "@timeout is enforced, in seconds and in minutes", "O17"),
    _orch("timeout-normal-run", REQUIRED, "@timeout does not disturb a step that finishes in time", "O17"),
    _orch("resources", REQUIRED, "@resources does not break the run", "O26"),
    _orch("custom-step-names", REQUIRED, "start/end steps with custom names", "O18", "O20"),
    _orch("single-step", REQUIRED, "a flow whose only step is both start and end", "O18", "O20"),
    _orch("from-deployment", REQUIRED, "DeployedFlow.from_deployment(name, impl=...) rebuilds a working deployment", "O23"),
    _orch("get-triggered-run", REQUIRED, "DeployedFlow.get_triggered_run(name, run_id, impl=...)", "O23"),
    _orch("dynamic-decorators", REQUIRED, "Deployer(decospecs=[...]) decorators reach the tasks", "O28"),
    _orch("run-id-rules", REQUIRED, "run and task ids are non-numeric and free of , : / !", "O19", "O2"),
    _orch("task-logs", REQUIRED, "task stdout/stderr are saved: task.stdout, `metaflow logs`, the failing step's error"),
    _orch("engine-unreachable", REQUIRED, "engine down: create (or trigger, when create only compiles) fails with a clear error within 60 s", "O1"),
    _orch("no-worker", OPTIONAL, "a run nobody executes (no worker) is reported within 30 s of trigger with the fix; status stays PENDING", "O22", "O24"),
    _orch("nested-foreach", OPTIONAL, "nested foreach (2x2 and 3 levels)", "O18", "O26"),
    _orch("switch", OPTIONAL, "split-switch runs exactly the chosen branch", "O25", "O26"),
    _orch("schedule", OPTIONAL, "@schedule deploys", "O26"),
    _orch("resume", OPTIONAL, "DeployedFlow.resume(origin_run_id=...) re-runs only the failed part"),
    _orch("delete", OPTIONAL, "DeployedFlow.delete() removes the deployment"),
    _orch("list-deployments", OPTIONAL, "DeployedFlow.list_deployed_flows(impl=...) lists the deployment", "O23"),
    _orch("trigger-events", OPTIONAL, "@trigger / @trigger_on_finish: published events and finished runs start deployed flows, payload fills parameters, tasks see current.trigger", "O9", "O26"),
    _orch("conda", OPTIONAL, "@conda steps get their own environment", "O27"),
    _orch("cards", OPTIONAL, "@card in a deployed task: get_cards(task) finds it, also under a non-default datastore root", "O32", "O21"),
)


def _back(cid: str, level: str, title: str, *pitfalls: str) -> Capability:
    return Capability(cid, BACKEND, level, title, tuple(pitfalls))


# Backend (step decorator) capabilities, checked with Runner(flow, decospecs=[<decospec>]).
_BACKEND: Tuple[Capability, ...] = (
    _back("registration", REQUIRED, "`<plugin> step --help` works and other datastores stay available", "B2", "B21"),
    _back("local-datastore-rejected", REQUIRED, "--datastore=local is refused before any task starts", "B1"),
    _back("env-vars", REQUIRED, "@environment vars, METAFLOW_USER and the runtime marker reach the task; no local sysroot", "B10", "B11"),
    _back("artifacts", REQUIRED, "artifacts and Config values round-trip; the task runs the packaged Metaflow", "B5", "B6", "B11"),
    _back("logs", REQUIRED, "task.stdout holds the step's output exactly once", "B17"),
    _back("logs-live", REQUIRED, "task logs reach the datastore while the step still runs", "B17"),
    _back("logs-streamed", REQUIRED, "a task's lines reach the launcher's output while it runs, once each, in order", "B17"),
    _back("metadata", REQUIRED, "run.successful and task.metadata_dict see the remote task's metadata", "B12"),
    _back("foreach", REQUIRED, "foreach fan-out and join on the backend, distinct task ids", "B7", "B25"),
    _back("retry", REQUIRED, "retry count is 0-based, attempts are real and not re-run by the platform", "B14", "B15"),
    _back("launch-failure", REQUIRED, "a launch failure exits 202 and is not retried", "B13", "B14"),
    _back("signal-exit", REQUIRED, "a task killed by a signal fails and is retried", "B26", "B14"),
    _back("catch", REQUIRED, "@catch records the user's error; fallback hooks do not break it", "B23"),
    _back("timeout", REQUIRED, "@timeout fires inside the task (Metaflow's message), before any platform limit", "B18"),
    _back("resources", REQUIRED, "@resources merges with the decorator's own request", "B19", "B3"),
    _back("retry-delay", REQUIRED, "@retry(minutes_between_retries=1) waits a minute between attempts", "B16"),
    _back("resume", REQUIRED, "resume re-runs the failed step on the backend", "B4"),
    _back("mutator", REQUIRED, "the decorator can be added by a StepMutator", "B22"),
    _back("conda-platform", REQUIRED, "@conda / @pypi resolve packages for the platform the tasks run on", "B9"),
    _back("uv-environment", REQUIRED, "--environment=uv: the task runs inside the environment Metaflow's uv bootstrap built", "B8", "B11", "B24"),
    _back("orphan-cleanup", REQUIRED, "no job is left running after a failed run", "B20"),
    _back("datastore-unreachable", REQUIRED, "datastore down: the run fails within 60 s with a clear error, before any task starts", "B27"),
    _back("cards", OPTIONAL, "@card in the remote task: the card is written and get_cards(task) finds it", "B28", "B10"),
    _back("resources-granted", OPTIONAL, "the job really gets the requested CPUs / memory (as the engine reports them)", "B19"),
)

# Keyed by (kind, id): the two kinds reuse ids such as "foreach" or "retry" with different checks.
REGISTRY: Dict[Tuple[str, str], Capability] = {(c.kind, c.id): c for c in _ORCHESTRATOR + _BACKEND}


def for_kind(kind: str) -> Tuple[Capability, ...]:
    """Capabilities of one extension kind, in registry order."""
    return tuple(c for c in REGISTRY.values() if c.kind == kind)


def get(cid: str, kind: str) -> Optional[Capability]:
    """The capability ``cid`` of ``kind``; None if only the other kind has it.

    An id no kind knows is a typo in a test's marker: an error, not a silent skip.
    """
    cap = REGISTRY.get((kind, cid))
    if cap is None and not any(k[1] == cid for k in REGISTRY):
        known = sorted({k[1] for k in REGISTRY})
        raise KeyError(f"unknown capability {cid!r}; known: {', '.join(known)}")
    return cap


def unknown_ids(declared: Iterable[str], kind: str) -> Tuple[str, ...]:
    """Ids an extension declares that are not optional capabilities of its kind (typos)."""
    known = {c.id for c in for_kind(kind) if not c.required}
    return tuple(sorted(set(declared) - known))
