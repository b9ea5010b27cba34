"""MFX316: a ``run_time_limit`` parameter is accepted but never used (B18)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, find_nodes
from mfx.analysis.backend_model import BackendModel, function_params
from mfx.rule import Invalid, Valid


class RunTimeLimitUnused(BackendFileRule):
    """## What it does
    Flags a function that takes a ``run_time_limit`` parameter and never reads it.

    ## Why is this bad?
    ``run_time_limit`` carries ``@timeout`` (plus slack) from the decorator to the job
    submission. A launcher that accepts it and drops it leaves the job either unlimited or cut
    by the platform's own default, so ``@timeout`` and the hard limit disagree (pitfall B18;
    metaflow-skypilot's ``launch_job``).

    ## Example
    ```python
    def launch_job(self, run_time_limit, **kwargs):
        self._job = sky.launch(task, **kwargs)
    ```

    ## Use instead
    ```python
    def launch_job(self, run_time_limit, **kwargs):
        self._job = sky.launch(task, timeout=run_time_limit + BOOTSTRAP_SLACK, **kwargs)
    ```

    ## Known problems
    A deliberately ignored limit should be renamed ``_run_time_limit``.
    """

    code = "MFX316"
    # Applicability pre-check (mfx.applicability), sound because it reports a parameter named
    # `run_time_limit`: the identifier is written in the file
    TRIGGERS = ("run_time_limit",)
    name = "run-time-limit-unused"
    message = (
        "`run_time_limit` is accepted but never used: pass it (plus slack for queueing and "
        "bootstrap) to the platform's job limit so @timeout fires first"
    )
    pitfalls = ("B18",)
    applies_to_core = True

    VALID = [
        Valid(
            """
def launch_job(self, run_time_limit, **kwargs):
    return submit(limit=run_time_limit + 300, **kwargs)

def abstract(self, run_time_limit):
    raise NotImplementedError

def stub(self, run_time_limit):
    ...
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
def launch_job(self, run_time_limit, **kwargs):
    # run_time_limit is handled elsewhere
    return submit(**kwargs)
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for func in find_nodes(module, cst.FunctionDef):
            if "run_time_limit" not in function_params(func):
                continue
            if self._is_stub(func):
                continue
            if any(n.value == "run_time_limit" for n in find_nodes(func.body, cst.Name)):
                continue
            param = next(p for p in list(func.params.params) + list(func.params.kwonly_params) + list(func.params.posonly_params) if p.name.value == "run_time_limit")
            self.report(param.name)

    @staticmethod
    def _is_stub(func: cst.FunctionDef) -> bool:
        if isinstance(func.body, cst.SimpleStatementSuite):
            small = func.body.body
            return len(small) == 1 and (
                isinstance(small[0], (cst.Raise, cst.Pass))
                or (isinstance(small[0], cst.Expr) and isinstance(small[0].value, cst.Ellipsis))
            )
        body = func.body.body
        stmts = [s for s in body if not (isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, cst.Expr) and isinstance(x.value, (cst.SimpleString, cst.ConcatenatedString)) for x in s.body))]
        if len(stmts) != 1:
            return False
        s = stmts[0]
        if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1:
            x = s.body[0]
            return isinstance(x, (cst.Raise, cst.Pass)) or (isinstance(x, cst.Expr) and isinstance(x.value, cst.Ellipsis))
        return False
