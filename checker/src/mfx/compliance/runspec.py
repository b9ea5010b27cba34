"""Runs the compliance tests need, declared at the test that needs them (both kinds).

A run is a :class:`Spec` (which flow, how it is deployed or launched, what end is expected),
declared as a module-level constant next to the test that reads it, and attached to every test
that waits for it with the marker ``mfx_run``::

    BRANCH = Spec("branch", "branch", "branch_flow")

    @pytest.mark.capability("branch")
    @pytest.mark.mfx_run(BRANCH)
    def test_static_split_and_join(h):
        run = h.finish(BRANCH).run

A run several tests read is declared once (one constant, one key) and marked on each of them;
another module imports the constant. After collection (``-k``/``-m`` deselection and the skips of
undeclared optional capabilities applied) the plugin turns the runs of the *selected, not
skipped* tests into the plan (:func:`plan`): each key once, long runs first (``order``), then in
the order of the tests. The session fixture of the kind launches the plan before the first test
(the orchestrator's ``Harness.prefetch``, under its budget; the backend's ``BackendRuns.prefetch``,
in background threads), so runs overlap on the engine; each test then waits for its own.
A test that waits for a run it does not declare fails with :class:`RunNotDeclared` (the prefetch
would miss that run when the test is selected alone).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

MARKER = "mfx_run"


@dataclass
class Spec:
    """A run a test needs: which flow, how it is deployed (orchestrator) or launched (backend) and
    triggered, what end is expected.

    ``capability`` is the capability whose test owns the run: a test of another capability that
    waits for it reports "blocked by <capability>" when the run fails (orchestrator).
    """

    key: str  # unique per suite: the run's tag suffix, its progress row and its timings key
    capability: str
    flow: str  # flows/<kind>/<flow>.py
    params: Dict[str, Any] = field(default_factory=dict)  # trigger(**params) / Runner.run(**params)
    top_level: Dict[str, Any] = field(default_factory=dict)  # Deployer(...) / Runner(...) top-level options
    env: Optional[Dict[str, str]] = None
    extra_tags: Tuple[str, ...] = ()  # orchestrator: create() tags besides the session's
    expect_success: bool = True  # orchestrator: wait() diagnoses a run that does not succeed
    recover: bool = False  # orchestrator: trigger through DeployedFlow.from_deployment(name)
    wait_timeout: Optional[float] = None  # seconds the run may take (default: --mfx-run-timeout)
    extra_timeout: float = 0.0  # backend: seconds on top of --mfx-run-timeout (a deliberately slow flow)
    order: int = 100  # plan order: long runs first so they overlap the rest

    def tags(self, session_tag: str) -> List[str]:
        return [f"{session_tag}-{self.key}", *self.extra_tags]


class DeclarationError(Exception):
    """The runs of the selected tests contradict each other, or a marker holds no :class:`Spec`."""


class RunNotDeclared(Exception):
    """A test waited for a run it does not declare with ``@pytest.mark.mfx_run``."""


def not_declared(test: str, spec: Spec) -> RunNotDeclared:
    return RunNotDeclared(
        f"{test} waits for run {spec.key!r} but does not declare it: add @pytest.mark.{MARKER}(<its Spec>) to the test "
        "(the session launches only the runs the selected tests declare)"
    )


def _specs_of_marks(marks: Iterable[Any], where: str) -> Iterator[Spec]:
    for mark in marks:
        if getattr(mark, "name", None) != MARKER:
            continue
        if not mark.args:
            raise DeclarationError(f"{where}: @pytest.mark.{MARKER}() names no run")
        for spec in mark.args:
            if not isinstance(spec, Spec):
                raise DeclarationError(f"{where}: @pytest.mark.{MARKER} takes Spec objects (mfx.compliance.runspec.Spec), got {spec!r}")
            yield spec


def declared(item: Any) -> List[Spec]:
    """The runs ``item`` (a pytest item) declares: its own marks, its parameter's, its module's."""
    out: List[Spec] = []
    for spec in _specs_of_marks(item.iter_markers(MARKER), getattr(item, "nodeid", str(item))):
        if spec not in out:
            out.append(spec)
    return out


def _skipped(item: Any) -> bool:
    """Skipped before it runs: a skip mark (undeclared optional capability, another kind) or a skipif
    whose condition is a true bool (string conditions are left to pytest)."""
    if item.get_closest_marker("skip") is not None:
        return True
    for mark in item.iter_markers("skipif"):
        conditions = mark.args or (mark.kwargs.get("condition"),)
        if any(isinstance(c, bool) and c for c in conditions):
            return True
    return False


def _merge(by_key: Dict[str, Tuple[Spec, str]], spec: Spec, where: str) -> bool:
    """Record ``spec`` declared at ``where``; False if its key was known already (the same run)."""
    known = by_key.get(spec.key)
    if known is None:
        by_key[spec.key] = (spec, where)
        return True
    if known[0] != spec:
        raise DeclarationError(
            f"run {spec.key!r} is declared differently by {known[1]} and {where}: a run shared by several tests is one "
            "module-level Spec, marked on each of them (import it where another module needs it)"
        )
    return False


def plan(items: Sequence[Any]) -> List[Spec]:
    """The runs to launch for ``items`` (the selected tests): each key once, only for tests that will
    run (not skipped), ordered by ``order`` and then by the first test that declares it."""
    by_key: Dict[str, Tuple[Spec, str]] = {}
    first: List[Spec] = []
    for item in items:
        if _skipped(item):
            continue
        for spec in declared(item):
            if _merge(by_key, spec, item.nodeid):
                first.append(spec)
    return sorted(first, key=lambda s: s.order)  # stable: equal orders keep the order of the tests


def _module_specs(module: Any) -> Iterator[Tuple[Spec, str]]:
    """(spec, where) for every run a test module declares or marks (functions, parametrized cases)."""
    from _pytest.mark.structures import ParameterSet

    name = module.__name__
    for attr, value in vars(module).items():
        if isinstance(value, Spec):
            yield value, f"{name}.{attr}"
    yield from ((s, name) for s in _specs_of_marks(_as_list(getattr(module, "pytestmark", [])), name))
    for attr, value in vars(module).items():
        if not (attr.startswith("test") and callable(value)):
            continue
        where = f"{name}.{attr}"
        marks = list(getattr(value, "pytestmark", []))
        yield from ((s, where) for s in _specs_of_marks(marks, where))
        for mark in marks:
            if mark.name == "parametrize" and len(mark.args) > 1:
                for case in mark.args[1]:
                    if isinstance(case, ParameterSet):
                        yield from ((s, where) for s in _specs_of_marks(case.marks, where))


def _as_list(marks: Any) -> List[Any]:
    return list(marks) if isinstance(marks, (list, tuple)) else [marks]


def suite_runs(kind: str) -> Dict[str, Spec]:
    """Every run the suite's ``kind`` tests declare, by key (imports ``mfx.compliance.tests.<kind>``'s
    test modules; outside pytest, e.g. for the bench). Raises :class:`DeclarationError` on a key
    declared twice differently."""
    package = importlib.import_module(f"mfx.compliance.tests.{kind}")
    by_key: Dict[str, Tuple[Spec, str]] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for spec, where in _module_specs(module):
            _merge(by_key, spec, where)
    return {key: spec for key, (spec, _) in by_key.items()}
