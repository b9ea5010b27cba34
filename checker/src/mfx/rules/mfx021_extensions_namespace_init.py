"""MFX021: ``metaflow_extensions/__init__.py`` exists (pitfall B2)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid


class ExtensionsNamespaceInit(ProjectRule):
    """## What it does
    Flags a file ``metaflow_extensions/__init__.py``.

    ## Why is this bad?
    ``metaflow_extensions`` must be an implicit namespace package, shared by every installed
    extension. Metaflow refuses an ``__init__.py`` there ("is not an implicit namespace
    package"), and packaging tools that see it ship one extension's ``metaflow_extensions``
    as a regular package that hides all the others (pitfall B2). ``__init__.py`` one level
    down, in ``metaflow_extensions/<org>/``, is fine.

    ## Example
    ```
    metaflow_extensions/__init__.py
    metaflow_extensions/my_org/plugins/mfextinit_my_org.py
    ```

    ## Use instead
    ```
    metaflow_extensions/my_org/plugins/mfextinit_my_org.py
    ```
    """

    code = "MFX021"
    name = "extensions-namespace-init"
    message = (
        "`metaflow_extensions/__init__.py` makes the shared namespace a regular package: Metaflow "
        "rejects it and it hides other extensions; delete the file"
    )
    pitfalls = ("B2",)
    applies_to_core = False

    VALID = [
        Valid(
            {
                "metaflow_extensions/my_org/__init__.py": "",
                "metaflow_extensions/my_org/plugins/mfextinit_my_org.py": "STEP_DECORATORS_DESC = []\n",
            },
            note="an __init__.py one level down is allowed",
        ),
        Valid({"src/pkg/__init__.py": "X = 1\n"}, note="unrelated packages"),
    ]
    INVALID = [
        Invalid(
            {
                "metaflow_extensions/__init__.py": "",
                "metaflow_extensions/my_org/plugins/mfextinit_my_org.py": "STEP_DECORATORS_DESC = []\n",
            },
            count=1,
        ),
        Invalid({"src/metaflow_extensions/__init__.py": "# namespace\n"}, count=1, note="under a src/ layout"),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for f in project:
            parts = PurePosixPath(f.path).parts
            if len(parts) >= 2 and parts[-1] == "__init__.py" and parts[-2] == "metaflow_extensions":
                yield Report(node=None, message=self.message, path=f.path, line=1, column=1)
