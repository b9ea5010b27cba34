"""Find the click command tree of an orchestrator CLI module, and the Deployer API classes.

An orchestrator CLI registered in ``CLIS_DESC`` is a root group (``@click.group()``) with one
sub-group named like the Deployer ``TYPE``, whose commands are ``create``, ``trigger`` …
(orchestrator-contract A.7). Rules about ``create``/``trigger`` only fire on functions found here,
so unrelated click programs and unrelated functions named ``trigger`` are never checked.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

from mfx.analysis.orchestrator_names import (
    class_bases,
    dotted,
    import_map,
    keyword,
    qualify,
    string_value,
    top_level_classes,
)

#: Qualified names a ``click`` module may have. Metaflow requires the vendored one.
VENDORED_CLICK = "metaflow._vendor.click"
CLICK_MODULES = {"click", VENDORED_CLICK}

DEPLOYER_IMPL = {
    "metaflow.runner.deployer_impl.DeployerImpl",
    "metaflow.runner.deployer.DeployerImpl",
    "metaflow.DeployerImpl",
}
DEPLOYED_FLOW = {"metaflow.runner.deployer.DeployedFlow", "metaflow.DeployedFlow"}
TRIGGERED_RUN = {"metaflow.runner.deployer.TriggeredRun", "metaflow.TriggeredRun"}


@dataclasses.dataclass
class ClickNode:
    """A function turned into a click group or command by a decorator."""

    func: cst.FunctionDef
    kind: str  # "group" or "command"
    name: str  # the click name (explicit ``name=`` or derived as click 7 does)
    parent: str | None  # Python name of the parent group; None for a root ``@click.group()``
    click_module: str | None  # for roots: the qualified name of the click module used
    decorator: cst.Decorator


def _derived_name(func_name: str) -> str:
    # click 7.1 (vendored by Metaflow): name.lower().replace("_", "-")
    return func_name.lower().replace("_", "-")


def click_nodes(module: cst.Module) -> list[ClickNode]:
    """Top-level functions decorated as click groups or commands, with their parent group."""
    imports = import_map(module)
    out: list[ClickNode] = []
    for stmt in module.body:
        if not isinstance(stmt, cst.FunctionDef):
            continue
        for deco in stmt.decorators:
            expr = deco.decorator
            call = expr if isinstance(expr, cst.Call) else None
            target = call.func if call is not None else expr
            if not isinstance(target, cst.Attribute) or target.attr.value not in ("group", "command"):
                continue
            owner = dotted(target.value)
            if owner is None:
                continue
            owner_q = qualify(target.value, imports) or owner
            name = _derived_name(stmt.name.value)
            if call is not None:
                named = keyword(call, "name")
                positional = [a for a in call.args if a.keyword is None and a.star == ""]
                explicit = string_value(named.value) if named else None
                if explicit is None and positional:
                    explicit = string_value(positional[0].value)
                if explicit is not None:
                    name = explicit
            if owner_q in CLICK_MODULES:
                out.append(ClickNode(stmt, target.attr.value, name, None, owner_q, deco))
            elif "." not in owner:
                out.append(ClickNode(stmt, target.attr.value, name, owner, None, deco))
            break
    return out


def add_command_calls(module: cst.Module, group: str) -> list[cst.Call]:
    """``<group>.add_command(x)`` calls at module level."""
    calls = []
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    func = small.value.func
                    if (
                        isinstance(func, cst.Attribute)
                        and func.attr.value == "add_command"
                        and dotted(func.value) == group
                    ):
                        calls.append(small.value)
    return calls


def orchestrator_commands(module: cst.Module) -> list[tuple[ClickNode, ClickNode]]:
    """(sub-group, command) pairs of an orchestrator CLI: the commands of a group that hangs off a
    root click group and holds both ``create`` and ``trigger`` (the two commands the Deployer API
    calls). ``card create`` or Airflow's compile-only ``create`` are not Deployer commands."""
    nodes = click_nodes(module)
    by_name = {n.func.name.value: n for n in nodes}
    out = []
    for node in nodes:
        if node.parent is None or node.kind != "command":
            continue
        group = by_name.get(node.parent)
        if group is None or group.kind != "group" or group.parent is None:
            continue
        root = by_name.get(group.parent)
        if root is None or root.parent is not None:
            continue
        out.append((group, node))
    deployer_groups = {
        id(g)
        for g, _ in out
        if {"create", "trigger"} <= {c.name for gg, c in out if gg is g}
    }
    return [(g, c) for g, c in out if id(g) in deployer_groups]


def commands_named(module: cst.Module, name: str) -> list[cst.FunctionDef]:
    return [cmd.func for _, cmd in orchestrator_commands(module) if cmd.name == name]


def subclasses(module: cst.Module, bases: set[str]) -> list[cst.ClassDef]:
    """Classes of the module deriving from one of ``bases``, directly or via a class of the module."""
    imports = import_map(module)
    found: list[cst.ClassDef] = []
    names: set[str] = set()
    classes = list(top_level_classes(module))
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls in found:
                continue
            qs = class_bases(cls, imports)
            if qs & bases or qs & names:
                found.append(cls)
                names.add(cls.name.value)
                changed = True
    return found


def class_constant(cls: cst.ClassDef, attr: str) -> tuple[cst.CSTNode, str | None] | None:
    """(value node, string value) of a class attribute assignment ``attr = "..."``."""
    for stmt in cls.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                for t in small.targets:
                    if isinstance(t.target, cst.Name) and t.target.value == attr:
                        return small.value, string_value(small.value)
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                if small.target.value == attr and small.value is not None:
                    return small.value, string_value(small.value)
    return None


def methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    return {s.name.value: s for s in cls.body.body if isinstance(s, cst.FunctionDef)}


def decorator_names(func: cst.FunctionDef) -> set[str]:
    out = set()
    for d in func.decorators:
        expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        name = dotted(expr)
        if name:
            out.add(name)
    return out


def parameter_names(func: cst.FunctionDef) -> set[str]:
    params = func.params
    out = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    return out
