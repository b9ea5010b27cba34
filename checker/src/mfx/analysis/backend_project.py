"""Cross-file view of compute backends: registrations, their CLI modules, the trampoline ``step``.

The "CLI step function" of a backend is the click command ``step`` under the sub-group of the CLI
object registered in ``CLIS_DESC``/``TRAMPOLINE_CLIS_DESC``. Only CLIs that have such a ``step``
command (or are registered as trampolines) are backend CLIs; orchestrator CLIs (``create``,
``trigger``…) are left to the orchestrator rules. When the project holds no registration file
(one file linted on its own), a module whose root group holds a sub-group with a ``step``
command that takes a ``step-name`` argument is taken as a backend CLI.
"""

from __future__ import annotations

import dataclasses

from mfx.analysis.backend_model import (
    BackendModel,
    ClickCommand,
    DescEntry,
    backend_model,
)
from mfx.engine.context import FileContext, ProjectContext


def model_of(f: FileContext) -> BackendModel:
    return backend_model(f)


@dataclasses.dataclass
class Registration:
    file: FileContext
    entry: DescEntry


@dataclasses.dataclass
class BackendCli:
    file: FileContext
    model: BackendModel
    root: ClickCommand | None
    registration: Registration | None
    group: ClickCommand | None  # the sub-group that holds ``step``
    step: ClickCommand | None


def registrations(project: ProjectContext, list_names: tuple = ("CLIS_DESC", "TRAMPOLINE_CLIS_DESC")) -> list[Registration]:
    out = []
    for f in project:
        if not f.words.mentions("_DESC"):
            continue  # every registration list name ends in _DESC (DESC_NAMES): none here
        for e in model_of(f).descs:
            if e.list_name in list_names:
                out.append(Registration(f, e))
    return out


def resolve_desc(project: ProjectContext, reg: Registration) -> tuple | None:
    """(file, attribute name) that a ``*_DESC`` path names, if that file is in the project."""
    module, _, attr = reg.entry.path.rpartition(".")
    if not module or not attr:
        return None
    target = project.resolve(module, relative_to=reg.file)
    return (target, attr) if target is not None else None


def _step_of(model: BackendModel, group: ClickCommand) -> ClickCommand | None:
    for c in model.children(group.func.name.value):
        if c.name == "step" and c.kind == "command":
            return c
    return None


def _cli_from_root(f: FileContext, model: BackendModel, root: ClickCommand, reg: Registration | None) -> BackendCli | None:
    root_name = root.func.name.value
    direct_step = next((c for c in model.children(root_name) if c.name == "step"), None)
    for sub in model.children(root_name):
        if sub.kind != "group":
            continue
        step = _step_of(model, sub)
        if step is not None:
            return BackendCli(f, model, root, reg, sub, step)
    if direct_step is not None or (reg is not None and reg.entry.list_name == "TRAMPOLINE_CLIS_DESC"):
        return BackendCli(f, model, root, reg, None, direct_step)
    return None


def backend_clis(project: ProjectContext) -> list[BackendCli]:
    """Every backend trampoline CLI of the project, registered ones first."""
    out: list[BackendCli] = []
    seen: set = set()
    regs = registrations(project)
    for reg in regs:
        resolved = resolve_desc(project, reg)
        if resolved is None:
            continue
        target, attr = resolved
        model = model_of(target)
        root = model.commands.get(attr)
        if root is None or root.kind != "group":
            continue
        cli = _cli_from_root(target, model, root, reg)
        if cli is not None and (target.path, attr) not in seen:
            seen.add((target.path, attr))  # a CLI listed in both CLIS_DESC and TRAMPOLINE_CLIS_DESC
            out.append(cli)
    if regs:
        return out
    for f in project:
        if not f.words.mentions("group"):
            continue  # a root is a ``@<click>.group`` decorated function: none here
        model = model_of(f)
        for root in model.roots():
            cli = _cli_from_root(f, model, root, None)
            if cli is not None and cli.step is not None and cli.group is not None:
                if any("step-name" in a.names for a in cli.step.arguments):
                    out.append(cli)
    return out


def compute_decorators(project: ProjectContext) -> list[tuple]:
    """(file, DecoratorClass) for every compute-backend decorator class of the project."""
    out = []
    for f in project:
        if not f.words.mentions("StepDecorator"):
            continue  # a step decorator class derives (maybe via a local class) from StepDecorator
        for d in model_of(f).decorators:
            if d.is_compute_backend:
                out.append((f, d))
    return out


def cli_for_group(project: ProjectContext, group_name: str | None) -> BackendCli | None:
    """The backend CLI whose sub-group is named ``group_name`` (what ``cli_args.commands[0]`` names)."""
    if group_name is None:
        return None
    for cli in backend_clis(project):
        if cli.group is not None and cli.group.name == group_name and cli.step is not None:
            return cli
    return None


def extension_root(path: str) -> str:
    """``<...>/metaflow_extensions/<org>`` of a path, or "" when it is not in an extension."""
    parts = path.split("/")
    if "metaflow_extensions" in parts:
        i = parts.index("metaflow_extensions")
        return "/".join(parts[: i + 2])
    return ""


def same_extension(project: ProjectContext, f: FileContext) -> list[FileContext]:
    """The files of the extension that ``f`` belongs to, so that presence checks ("some module
    calls X") are not satisfied by another extension linted in the same run."""
    root = extension_root(f.path)
    return [g for g in project if extension_root(g.path) == root]
