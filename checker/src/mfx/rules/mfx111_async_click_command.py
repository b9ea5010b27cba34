"""MFX111: a click command or group defined on an ``async def``."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import CLICK_MODULES
from mfx.analysis.orchestrator_names import dotted, import_map, qualify, walk
from mfx.applicability import all_of
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid


class AsyncClickCommand(Rule):
    """## What it does
    Flags a click ``command``/``group`` decorator (``@my_orch.command()``, ``@click.command()``,
    with any ``@click.option``/``@click.pass_obj`` stacked under it) on an ``async def``.

    ## Why is this bad?
    Metaflow's vendored click calls the callback and ignores what it returns: an ``async def``
    returns a coroutine that is never awaited, so the command does nothing and exits 0. For an
    orchestrator ``trigger`` or ``create`` the Deployer API then waits for an attribute file
    nobody writes, and the plugin's CLI is as good as missing (pitfall O3). Keep the click
    callback synchronous and run the coroutine from it.

    ## Example
    ```python
    @my_orch.command(help="Trigger the flow.")
    @click.option("--deployer-attribute-file", default=None)
    @click.pass_obj
    async def trigger(obj, deployer_attribute_file=None):
        await client.start_workflow(...)
    ```

    ## Use instead
    ```python
    @my_orch.command(help="Trigger the flow.")
    @click.option("--deployer-attribute-file", default=None)
    @click.pass_obj
    def trigger(obj, deployer_attribute_file=None):
        asyncio.run(_trigger(obj, deployer_attribute_file))
    ```
    """

    code = "MFX111"
    # Applicability pre-check (mfx.applicability), sound because it reports only an `async def`
    # under a decorator that resolves to click: the keyword `async` and an identifier `click`
    # (the import, or the group's own click decorator) are written in the file
    TRIGGERS = all_of(("async",), ("click",))
    name = "async-click-command"
    message = (
        "click never awaits an `async def` command: it returns an un-awaited coroutine and exits 0; "
        "make the command a plain `def` that runs the coroutine (`asyncio.run(...)`)"
    )
    pitfalls = ("O3",)

    VALID = [
        Valid(
            """
import asyncio
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(name="my-orch")
def my_orch():
    pass

@my_orch.command()
@click.pass_obj
def trigger(obj):
    asyncio.run(_trigger(obj))

async def _trigger(obj):
    await obj.client.start()
"""
        ),
        Valid(
            """
import asyncclick as click

@click.command()
async def main():
    pass
""",
            note="asyncclick awaits its commands",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(name="my-orch")
def my_orch():
    pass

@my_orch.command(help="Trigger the flow.")
@click.option("--deployer-attribute-file", default=None)
@click.pass_obj
async def trigger(obj, deployer_attribute_file=None):
    await obj.client.start()
""",
            count=1,
        )
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        imports = import_map(file.module)
        funcs = [n for n in walk(file.module) if type(n) is cst.FunctionDef]
        groups: set = set()
        while True:  # groups of groups: a fixpoint, bounded by the number of functions
            found = {f.name.value for f in funcs if self._click_decorator(f, imports, groups) == "group"}
            if found <= groups:
                break
            groups |= found
        for f in funcs:
            if f.asynchronous is not None:
                deco = self._click_decorator(f, imports, groups, node_only=True)
                if deco is not None:
                    yield self.report(deco)

    @staticmethod
    def _click_decorator(func: cst.FunctionDef, imports: dict, groups: set, node_only: bool = False):
        """The kind (or with ``node_only`` the decorator node) of ``func``'s click ``command`` /
        ``group`` decorator: ``@click.command()``, ``@<click group>.command()``, or
        ``@<imported name>.command()`` in a module that imports click."""
        uses_click = any(v.split(".")[0] == "click" or v.startswith("metaflow._vendor.click") for v in imports.values())
        for deco in func.decorators:
            expr = deco.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            if not isinstance(target, cst.Attribute) or target.attr.value not in ("command", "group"):
                continue
            owner = dotted(target.value)
            if owner is None:
                continue
            owner_q = qualify(target.value, imports) or owner
            root = owner.split(".")[0]
            if (
                owner_q in CLICK_MODULES
                or owner in groups
                or ("." not in owner and root in imports and uses_click and not imports[root].startswith(tuple(CLICK_MODULES)))
            ):
                return deco if node_only else target.attr.value
        return None
