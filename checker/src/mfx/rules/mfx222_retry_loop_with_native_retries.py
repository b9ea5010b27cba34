"""MFX222: a hand-written retry loop's counter is the retry count of a task that the scheduler
also retries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import libcst as cst

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_command import expression_parts
from mfx.analysis.orchestrator_names import SCOPES, call_name, string_value, walk
from mfx.analysis.orchestrator_project import may_mention, nodes_of, source_files
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

#: Keyword arguments and keys through which a scheduler task declares its own retries.
_NATIVE = {
    "retries", "retry", "max_retries", "num_retries", "retry_policy", "retryStrategy",
    "retry_strategy", "maxRetries", "maximum_attempts", "max_attempts", "maxAttempts", "retry_limit",
}
#: Counting attempts rather than retries: 1 means "no retry".
_ATTEMPTS = {"maximum_attempts", "max_attempts", "maxAttempts"}
_NATIVE_WORDS = tuple(sorted(_NATIVE | {"RetryPolicy"}))


class RetryLoopWithNativeRetries(ProjectRule):
    """## What it does
    Flags a ``--retry-count`` whose value is the counter of a hand-written retry loop
    (``for attempt in range(n)``, or a ``while`` loop that increments it) — in the function that
    builds the command, or passed by such a loop to the function that does — in a project that
    also gives its tasks native retries (``retries=3``, ``retry_policy=RetryPolicy(...)``,
    ``"retryStrategy"``, ``maximum_attempts=5`` …).

    ## Why is this bad?
    Each native retry of the scheduler starts the loop again at 0: several attempts of the same
    task run with the same ``--retry-count``, overwrite each other's logs and artifacts, and the
    total number of attempts is the product of both budgets, so ``@retry`` and ``@catch`` see a
    count that never reaches ``--max-user-code-retries`` (pitfall O15). Use one retry mechanism:
    either the scheduler's (with its 0-based attempt as the retry count) or the loop (and no
    native retries).

    ## Example
    ```python
    @activity.defn
    def run_task(cmd):
        for attempt in range(MAX_TRIES):
            if subprocess.run(cmd + ["--retry-count", str(attempt)]).returncode == 0:
                return
    ...
    workflow.execute_activity(run_task, cmd, retry_policy=RetryPolicy(maximum_attempts=3))
    ```

    ## Use instead
    ```python
    @activity.defn
    def run_task(cmd):
        attempt = activity.info().attempt - 1
        subprocess.run(cmd + ["--retry-count", str(attempt)], check=True)
    ```
    """

    code = "MFX222"
    name = "retry-loop-with-native-retries"
    message = (
        "`--retry-count` is the counter of a hand-written retry loop, but the scheduler retries this task "
        "too: each native retry restarts the count at 0; use one retry mechanism"
    )
    pitfalls = ("O15",)

    VALID = [
        Valid(
            {
                "orch/worker.py": """
import subprocess

def run_task(cmd, tries):
    for attempt in range(tries):
        if subprocess.run(cmd + ["--retry-count", str(attempt)]).returncode == 0:
            return
""",
                "orch/workflow.py": "def schedule(wf, run_task):\n    wf.execute(run_task, retry_policy=None)\n",
            },
            note="the loop is the only retry mechanism",
        )
    ]
    INVALID = [
        Invalid(
            {
                "orch/worker.py": """
import subprocess

def run_task(cmd, tries):
    for attempt in range(tries):
        if subprocess.run(cmd + ["--retry-count", str(attempt)]).returncode == 0:
            return
""",
                "orch/workflow.py": "def schedule(wf, run_task):\n    wf.execute(run_task, retries=2)\n",
            },
            count=1,
        ),
        Invalid(
            {
                "orch/worker.py": """
import subprocess


def run_task(flow, step, run_id, task_id, tries):
    for attempt in range(tries):
        args = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id]
        args.append("--retry-count")
        args.append(str(attempt))
        if subprocess.run(args).returncode == 0:
            return
""",
                "orch/workflow.py": """
def schedule(wf, run_task):
    wf.execute(run_task, retries=2)
""",
            },
            count=1,
            note='the loop counter appended by a separate statement',
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        values = model_of(project).option_values("--retry-count")
        if not values:
            return []
        suspects: list[Report] = []
        for value in values:
            func = value.func
            if value.expr is None or func is None:
                continue
            names = {n.value for n in expression_parts(value.expr, func) if isinstance(n, cst.Name)}
            if any(self._loop_counter(func, name, value.node, value.expr) for name in names):
                suspects.append(value.report(self.message))
                continue
            params = _parameters(func)
            for name in names & set(params):
                if _assigned(func, name):
                    continue
                method = bool(params) and params[0] in ("self", "cls")
                for path, arg in self._looped_calls(project, func.name.value, params.index(name), name, method):
                    suspects.append(Report(node=arg, message=self.message, path=path))
        if not suspects or not self._native_retries(project):
            return []
        return suspects

    @staticmethod
    def _loop_counter(func: cst.FunctionDef, name: str, *at: cst.CSTNode) -> bool:
        """``name`` counts the iterations of a loop of ``func`` that encloses one of ``at`` (the
        option as written, or its value when the model assembled the option elsewhere)."""
        wanted = {id(a) for a in at}
        for loop in walk(func.body, SCOPES):
            if type(loop) is cst.For and _counts(loop, name) or type(loop) is cst.While and _increments(loop, name):
                if any(id(n) in wanted for n in walk(loop.body)):  # type: ignore[attr-defined]
                    return True
        return False

    def _looped_calls(self, project: ProjectContext, callee: str, index: int, param: str, method: bool) -> Iterator[tuple[str, cst.CSTNode]]:
        """Arguments bound to ``param`` of ``callee`` that are a loop counter at the call site."""
        for f in source_files(project):
            if callee not in f.source:
                continue  # a call names the function
            for func in (n for n in nodes_of(f) if type(n) is cst.FunctionDef):
                for call in walk(func.body, SCOPES):  # type: ignore[attr-defined]
                    if type(call) is not cst.Call or call_name(call) != callee:  # type: ignore[arg-type]
                        continue
                    arg = _argument(call, index, param, method)  # type: ignore[arg-type]
                    if arg is None:
                        continue
                    for n in walk(arg):
                        if isinstance(n, cst.Name) and self._loop_counter(func, n.value, call):  # type: ignore[arg-type]
                            yield f.path, arg
                            break

    def _native_retries(self, project: ProjectContext) -> bool:
        for f in source_files(project):
            if not may_mention(f, _NATIVE_WORDS):
                continue
            for n in nodes_of(f):
                if type(n) is cst.Arg and n.keyword is not None and n.keyword.value in _NATIVE:  # type: ignore[attr-defined]
                    if _retrying(n.keyword.value, n.value):  # type: ignore[attr-defined]
                        return True
                elif type(n) is cst.DictElement:
                    key = string_value(n.key)  # type: ignore[attr-defined]
                    if key in _NATIVE and _retrying(key, n.value):  # type: ignore[attr-defined]
                        return True
                elif type(n) is cst.Call and call_name(n) == "RetryPolicy":  # type: ignore[arg-type]
                    if _retrying("retry_policy", n):  # type: ignore[arg-type]
                        return True  # Temporal's default policy retries without limit
        return False


def _retrying(key: str, value: cst.BaseExpression) -> bool:
    """The declared value gives the task at least one native retry (unknown values do)."""
    if isinstance(value, cst.Name) and value.value in ("None", "False"):
        return False
    if isinstance(value, cst.Integer):
        return int(value.value) > (1 if key in _ATTEMPTS else 0)
    if isinstance(value, cst.Call) and call_name(value) == "RetryPolicy":
        limits = [a.value for a in value.args if a.keyword is not None and a.keyword.value in _ATTEMPTS]
        return not limits or _retrying("maximum_attempts", limits[0])
    return True


def _counts(loop: cst.For, name: str) -> bool:
    """``for name in range(...)`` / ``count()`` / ``for name, _ in enumerate(...)``."""
    target, it = loop.target, loop.iter
    func = call_name(it) if isinstance(it, cst.Call) else None
    if isinstance(target, cst.Name) and target.value == name:
        return func in ("range", "count")
    if isinstance(target, cst.Tuple) and func == "enumerate" and target.elements:
        first = target.elements[0].value
        return isinstance(first, cst.Name) and first.value == name
    return False


def _increments(loop: cst.While, name: str) -> bool:
    return any(
        type(n) is cst.AugAssign and isinstance(n.target, cst.Name) and n.target.value == name  # type: ignore[attr-defined]
        and isinstance(n.operator, cst.AddAssign)  # type: ignore[attr-defined]
        for n in walk(loop.body, SCOPES)
    )


def _parameters(func: cst.FunctionDef) -> list[str]:
    p = func.params
    return [x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)]


def _assigned(func: cst.FunctionDef, name: str) -> bool:
    from mfx.analysis.orchestrator_command import assignments

    return bool(assignments(func, name))


def _argument(call: cst.Call, index: int, param: str, method: bool) -> cst.BaseExpression | None:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == param:
            return a.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if isinstance(call.func, cst.Attribute) and method:
        index -= 1  # `self.build(x)`: the instance is not among the arguments
    if 0 <= index < len(positional):
        return positional[index].value
    return None
