"""MFX019: one pytest run that loads both the orchestrator kit's and Metaflow's UX conftests."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import walk
from mfx.applicability import ALWAYS
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_UPSTREAM = re.compile(r"(^|/)test/ux(/|$)")
_KIT = re.compile(r"metaflow_orchestrator_kit|(^|/)[\w.-]*/compliance/?$")


class ConflictingUxConftests(Rule):
    """## What it does
    In a ``noxfile.py``, flags a single command (``session.run(...)`` or any call) whose
    arguments name both Metaflow's upstream UX tests (``test/ux/...``) and the compliance
    directory of ``metaflow_orchestrator_kit``.

    ## Why is this bad?
    Both directories ship a ``conftest.py`` that registers the same pytest options; loading
    them in one pytest process aborts at collection with ``ValueError: option names
    {'--decospecs'} already added`` (pitfall O31). Run them as two pytest invocations.

    ## Example
    ```python
    session.run("pytest", kit_dir + "/compliance", "metaflow/test/ux/core")
    ```

    ## Use instead
    ```python
    session.run("pytest", kit_dir + "/compliance")
    session.run("pytest", "metaflow/test/ux/core")
    ```
    """

    code = "MFX019"
    # Applicability pre-check (mfx.applicability): no word is necessary (the reported calls are
    # recognised by string values alone), but the rule only looks at files named `noxfile.py`.
    TRIGGERS = ALWAYS
    FILE_NAMES = ("noxfile.py",)
    name = "conflicting-ux-conftests"
    message = (
        "this pytest run loads both the orchestrator kit's compliance conftest and Metaflow's "
        "test/ux conftest, which register the same options: run them separately"
    )
    pitfalls = ("O31",)
    applies_to_core = False

    VALID = [
        Valid(
            {
                "noxfile.py": """
import nox

@nox.session
def ux(session):
    session.run("pytest", "site/metaflow_orchestrator_kit/compliance")
    session.run("pytest", "metaflow/test/ux/core", "--only-backend", "my-orch")
"""
            }
        ),
        Valid({"tools/run.py": 'def f(s):\n    s.run("pytest", "x/compliance", "test/ux/core")\n'}, note="not a noxfile"),
    ]
    INVALID = [
        Invalid(
            {
                "noxfile.py": """
import nox

@nox.session
def ux(session):
    session.run("pytest", "kit/compliance/", "metaflow/test/ux/core/test_basic.py", "-x")
"""
            },
            count=1,
        )
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        if PurePosixPath(file.path).name != "noxfile.py":
            return
        for call in walk(file.module):
            if not isinstance(call, cst.Call):
                continue
            texts = []
            for arg in call.args:
                for n in walk(arg.value):
                    if isinstance(n, cst.SimpleString):
                        value = n.evaluated_value
                        if isinstance(value, str):
                            texts.append(value)
                    elif isinstance(n, cst.FormattedStringText):
                        texts.append(n.value)
            if any(_UPSTREAM.search(t) for t in texts) and any(_KIT.search(t) for t in texts):
                yield self.report(call)
