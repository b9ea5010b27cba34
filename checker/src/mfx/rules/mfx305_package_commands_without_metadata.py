"""MFX305: ``environment.get_package_commands`` is called without the package metadata (B6)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule, calls_named
from mfx.analysis.backend_model import BackendModel
from mfx.analysis.backend_names import keyword, positional
from mfx.rule import Invalid, Valid


class PackageCommandsWithoutMetadata(BackendFileRule):
    """## What it does
    Flags ``<environment>.get_package_commands(url, datastore_type)`` calls that do not pass the
    third argument, the code package metadata.

    ## Why is this bad?
    ``get_package_commands(code_package_url, datastore_type, code_package_metadata)`` emits the
    download-and-extract commands for the code package and the ``PYTHONPATH=$(pwd)/.mf_code``
    export, and the metadata says how the package is laid out (archive format, content
    version). Without it Metaflow falls back to a default that only matches today's format by
    coincidence; a package in another format then extracts wrongly and the remote runs the
    worker's own Metaflow instead of the packaged one (pitfall B6; metaflow-slurm, skypilot).

    ## Example
    ```python
    init_cmds = environment.get_package_commands(code_package_url, datastore.TYPE)
    ```

    ## Use instead
    ```python
    init_cmds = environment.get_package_commands(
        code_package_url, datastore.TYPE, code_package_metadata
    )
    ```

    ## Known problems
    Metaflow's own Argo Workflows lifecycle hooks call it with two arguments; the rule is not
    applied to Metaflow's core.
    """

    code = "MFX305"
    # Applicability pre-check (mfx.applicability), sound because it reports calls named
    # `get_package_commands`: the identifier is written in the file
    TRIGGERS = ("get_package_commands",)
    name = "package-commands-without-metadata"
    message = (
        "`get_package_commands` without `code_package_metadata`: pass the package metadata "
        "(the decorator's `package_metadata`, forwarded as the trampoline's first argument) as third argument"
    )
    pitfalls = ("B6",)
    applies_to_core = False

    VALID = [
        Valid(
            """
def cmds(environment, url, ds, meta):
    a = environment.get_package_commands(url, ds, meta)
    b = environment.get_package_commands(url, ds, code_package_metadata=meta)
    return a + b
"""
        ),
        Valid(
            """
def cmds(environment, args):
    return environment.get_package_commands(*args)
""",
            note="star-args are not counted",
        ),
    ]
    INVALID = [
        Invalid(
            """
def cmds(environment, code_package_url, datastore):
    return environment.get_package_commands(code_package_url, datastore.TYPE)
""",
            count=1,
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for call in calls_named(module, "get_package_commands"):
            if not isinstance(call.func, cst.Attribute):
                continue
            if any(a.star for a in call.args):
                continue
            if len(positional(call)) >= 3 or keyword(call, "code_package_metadata") is not None:
                continue
            self.report(call)
