"""MFX224: the ``trigger`` command parses the flow parameters and never passes them on."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import orchestrator_commands
from mfx.analysis.orchestrator_names import SCOPES, walk
from mfx.applicability import all_of
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

#: Methods that change a collection in place: calling one is not passing the collection on.
_MUTATORS = {"update", "setdefault", "pop", "append", "extend", "insert", "clear", "remove", "popitem"}

_CLI = """
from metaflow import parameters
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(name="my-orch")
def my_orch():
    pass

@my_orch.command()
def create():
    pass

@parameters.add_custom_parameters(deploy_mode=False)
@my_orch.command()
@click.pass_obj
"""


class TriggerParametersDropped(Rule):
    """## What it does
    Flags the ``trigger`` command of an orchestrator CLI whose flow parameters (the ``**kwargs``
    that ``add_custom_parameters`` fills) are never used, or are only parsed into locals that
    are never passed on (to a call, a return value, an attribute, a file …). Updating such a
    local in place does not count as passing it on.

    ## Why is this bad?
    The Deployer API hands ``trigger(alpha=5)`` to this command; values that stop here never
    reach the run's ``init``, which then uses the parameter defaults without any error (pitfall
    O9).

    ## Example
    ```python
    def trigger(obj, deployer_attribute_file=None, **kwargs):
        params = {k: v for k, v in kwargs.items() if v is not None}
        execution = client.start(obj.workflow_name)
    ```

    ## Use instead
    ```python
    def trigger(obj, deployer_attribute_file=None, **kwargs):
        params = {k: v for k, v in kwargs.items() if v is not None}
        execution = client.start(obj.workflow_name, input={"parameters": params})
    ```
    """

    code = "MFX224"
    # Applicability pre-check (mfx.applicability), sound because it reports only in a command
    # named `trigger` (the function or its `name=` is written in the file) of an orchestrator CLI,
    # whose root group is `@<click>.group()` with `<click>` resolving to a click module: the
    # identifier `click` is written in the file
    TRIGGERS = all_of(("trigger",), ("click",))
    name = "trigger-parameters-dropped"
    message = (
        "the flow parameters given to `trigger` stop here: pass them on to the run (they reach `init` as "
        "`--<name> <value>`), or the run silently uses the defaults"
    )
    pitfalls = ("O9",)

    VALID = [
        Valid(
            _CLI
            + """def trigger(obj, deployer_attribute_file=None, **kwargs):
    params = {k: v for k, v in kwargs.items() if v is not None}
    obj.client.start(obj.name, input={"parameters": params})
"""
        )
    ]
    INVALID = [
        Invalid(
            _CLI
            + """def trigger(obj, deployer_attribute_file=None, **kwargs):
    params = {k: v for k, v in kwargs.items() if v is not None}
    obj.client.start(obj.name)
""",
            count=1,
        )
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        for _, cmd in orchestrator_commands(file.module):
            if cmd.name != "trigger":
                continue
            star = cmd.func.params.star_kwarg
            if star is None:
                continue
            self._check(cmd.func, star.name.value, star)

    def _check(self, func: cst.FunctionDef, kwargs: str, star: cst.CSTNode) -> None:
        nodes = walk(func.body, SCOPES)
        parents: dict[int, cst.CSTNode] = {}
        for n in [func.body, *nodes]:
            for c in n.children:
                parents[id(c)] = n
        params = {p.name.value for p in (*func.params.posonly_params, *func.params.params, *func.params.kwonly_params)}
        local = {
            x.value  # type: ignore[attr-defined]
            for n in nodes
            if type(n) in (cst.AssignTarget, cst.AnnAssign, cst.For, cst.AugAssign)
            for x in walk(n.target)  # type: ignore[attr-defined]
            if type(x) is cst.Name
        } - params - {"self"}
        derived = {kwargs}
        edges: dict[str, set[str]] = {}
        passed: set[str] = set()
        where: dict[str, cst.CSTNode] = {}
        reads = [n for n in nodes if type(n) is cst.Name]
        changed = True
        while changed:
            changed = False
            for r in reads:
                name = r.value  # type: ignore[attr-defined]
                if name not in derived or self._is_store(r, parents):
                    continue
                sink, stmt = self._sink(r, parents, local)
                if sink == "pass":
                    if name not in passed:
                        passed.add(name)
                        changed = True
                elif isinstance(sink, set):
                    new = sink - derived
                    if new:
                        derived |= new
                        for x in new:
                            where.setdefault(x, stmt)
                        changed = True
                    edges.setdefault(name, set()).update(sink - {name})
            for name, targets in edges.items():
                if name not in passed and targets & passed:
                    passed.add(name)
                    changed = True
        if kwargs in passed:
            return
        # where they die: a local they were parsed into that hands them to nothing else
        terminal = [x for x in derived - {kwargs} if x in where and not edges.get(x)]
        dead = [where[x] for x in terminal or derived - {kwargs} if x in where]
        dead.sort(key=lambda n: nodes.index(n) if n in nodes else 0)
        self.report(dead[0] if dead else star)

    @staticmethod
    def _is_store(ref: cst.Name, parents: dict) -> bool:
        parent = parents.get(id(ref))
        if type(parent) is cst.AssignTarget or type(parent) in (cst.AnnAssign, cst.AugAssign) and parent.target is ref:  # type: ignore[attr-defined]
            return True
        if type(parent) is cst.For and parent.target is ref:  # type: ignore[attr-defined]
            return True
        if type(parent) in (cst.Tuple, cst.List) or type(parent) is cst.Element:
            up = parent
            while type(up) in (cst.Tuple, cst.List, cst.Element):
                child, up = up, parents.get(id(up))
            if type(up) is cst.For and up.target is child or type(up) is cst.AssignTarget:  # type: ignore[attr-defined]
                return True
        return False

    @staticmethod
    def _sink(ref: cst.Name, parents: dict, local: set):
        """Where this read of a parameter-holding name sends the value: ``"pass"`` (handed on:
        a call, a return, an attribute of an object …), ``"look"`` (only tested), or the set of
        locals that receive it. Returns (sink, statement)."""
        child: cst.CSTNode = ref
        up = parents.get(id(ref))
        while up is not None:
            kind = type(up)
            if kind in (cst.If, cst.While, cst.IfExp) and getattr(up, "test", None) is child:
                return "look", up
            if kind is cst.For and up.iter is child:  # type: ignore[attr-defined]
                targets = {x.value for x in walk(up.target) if type(x) is cst.Name}  # type: ignore[attr-defined]
                return (targets & local) or "pass", up
            if kind in (cst.Assign, cst.AnnAssign, cst.AugAssign):
                targets = [t.target for t in up.targets] if kind is cst.Assign else [up.target]  # type: ignore[attr-defined]
                bases = [_base(t) for t in targets]
                if bases and all(b in local for b in bases):
                    return set(bases), up
                return "pass", up
            if kind is cst.Call and isinstance(up.func, cst.Attribute) and up.func.attr.value in _MUTATORS and child is not up.func:  # type: ignore[attr-defined]
                base = _base(up.func.value)  # type: ignore[attr-defined]
                if base in local:
                    return {base}, up  # params.update(kwargs)
            if kind is cst.Attribute and up.value is child and up.attr.value in _MUTATORS:  # type: ignore[attr-defined]
                call = parents.get(id(up))
                if type(call) is cst.Call and call.func is up and type(parents.get(id(call))) is cst.Expr:  # type: ignore[attr-defined]
                    return "look", up  # params.update(...) / kwargs.pop("x") as a statement: changed in place
            if kind in (cst.Expr, cst.Return, cst.Raise, cst.Assert, cst.With, cst.SimpleStatementLine):
                return "pass", up
            child, up = up, parents.get(id(up))
        return "pass", None


def _base(target: cst.CSTNode) -> str | None:
    while type(target) in (cst.Subscript, cst.Attribute):
        target = target.value  # type: ignore[attr-defined]
    return target.value if type(target) is cst.Name else None  # type: ignore[attr-defined]
