"""A per-file model of the compute-backend parts of a Metaflow extension.

Several rules need the same positive identification of the code a pitfall is about:

* a *step decorator class*: a class whose base resolves to ``metaflow.decorators.StepDecorator``
  (or to another step decorator class of the same file);
* a *compute backend* decorator: a step decorator whose ``runtime_step_cli`` rewrites the task
  command (``cli_args.commands = ["<name>", "step"]``), as ``@kubernetes`` and ``@batch`` do;
* the *click structure* of a CLI module: root groups, sub-groups, commands, their options and
  arguments;
* the *registration lists* ``STEP_DECORATORS_DESC``, ``CLIS_DESC`` and ``TRAMPOLINE_CLIS_DESC``.

The model is computed once per parsed module and cached, so per-file and project rules share it.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

from mfx.analysis.backend_names import (
    ImportMap,
    keyword,
    matches_qualified,
    positional,
    string_value,
    walk,
)
from mfx.engine.context import FileContext

STEP_DECORATOR_BASES = ("metaflow.decorators.StepDecorator", "metaflow.StepDecorator")
DESC_NAMES = ("STEP_DECORATORS_DESC", "CLIS_DESC", "TRAMPOLINE_CLIS_DESC")


@dataclasses.dataclass
class DecoratorClass:
    node: cst.ClassDef
    class_name: str
    deco_name: str | None
    defaults: cst.BaseExpression | None
    methods: dict[str, cst.FunctionDef]
    class_attrs: dict[str, cst.BaseExpression]
    #: the first element of ``cli_args.commands = [...]`` in ``runtime_step_cli`` (None if the
    #: decorator does not rewrite the task command, i.e. it is not a compute backend)
    command_group: str | None
    commands_assign: cst.Assign | None

    @property
    def is_compute_backend(self) -> bool:
        return self.commands_assign is not None

    def defaults_keys(self) -> dict[str, cst.CSTNode] | None:
        """Keys of a literal ``defaults`` dict (None when ``defaults`` is not a literal dict)."""
        if not isinstance(self.defaults, cst.Dict):
            return None
        out: dict[str, cst.CSTNode] = {}
        for el in self.defaults.elements:
            if isinstance(el, cst.DictElement):
                key = string_value(el.key)
                if key is not None:
                    out[key] = el.key
        return out


@dataclasses.dataclass
class ClickParam:
    kind: str  # "option" | "argument"
    names: tuple[str, ...]  # normalized: no dashes prefix, "_" -> "-"
    node: cst.Call


@dataclasses.dataclass
class ClickCommand:
    func: cst.FunctionDef
    kind: str  # "group" | "command"
    name: str  # the name click registers
    parent: str | None  # function name of the parent group in this module; None for a root
    params: list[ClickParam]
    decorator: cst.Decorator

    @property
    def options(self) -> dict[str, ClickParam]:
        out = {}
        for p in self.params:
            if p.kind == "option":
                for n in p.names:
                    out[n] = p
        return out

    @property
    def arguments(self) -> list[ClickParam]:
        return [p for p in self.params if p.kind == "argument"]


@dataclasses.dataclass
class DescEntry:
    list_name: str  # STEP_DECORATORS_DESC | CLIS_DESC | TRAMPOLINE_CLIS_DESC
    key: str
    path: str
    node: cst.CSTNode


@dataclasses.dataclass
class BackendModel:
    imports: ImportMap
    decorators: list[DecoratorClass]
    commands: dict[str, ClickCommand]  # by function name
    add_commands: list[tuple[str, cst.Call]]  # (parent function name, call) for cli.add_command(x)
    descs: list[DescEntry]

    def children(self, parent: str) -> list[ClickCommand]:
        return [c for c in self.commands.values() if c.parent == parent]

    def roots(self) -> list[ClickCommand]:
        return [c for c in self.commands.values() if c.parent is None and c.kind == "group"]


def normalize_option(name: str) -> str:
    return name.lstrip("-").replace("_", "-")


def _param_names(call: cst.Call, kind: str) -> tuple[str, ...]:
    names: list[str] = []
    for arg in positional(call):
        value = string_value(arg.value)
        if value is None:
            continue
        for part in value.split("/"):
            part = part.strip()
            if kind == "option":
                if part.startswith("--"):
                    names.append(normalize_option(part))
                elif not part.startswith("-") and part:
                    names.append(normalize_option(part))  # explicit parameter name
            else:
                names.append(normalize_option(part))
    return tuple(names)


def _click_kind(imports: ImportMap, deco: cst.BaseExpression) -> tuple[str, str | None, cst.Call | None] | None:
    """(kind, parent function name or None, the call) for ``@x.group(...)``/``@click.command(...)``."""
    call = deco if isinstance(deco, cst.Call) else None
    target = deco.func if isinstance(deco, cst.Call) else deco
    if not isinstance(target, cst.Attribute) or target.attr.value not in ("group", "command"):
        return None
    kind = target.attr.value
    owner = target.value
    full = imports.resolve(owner)
    if full is not None and (full == "click" or full.endswith(".click")):
        return kind, None, call
    if isinstance(owner, cst.Name) and not imports.is_imported(owner.value):
        return kind, owner.value, call
    return None


def _click_param(imports: ImportMap, deco: cst.BaseExpression) -> ClickParam | None:
    if not isinstance(deco, cst.Call):
        return None
    full = imports.resolve(deco.func)
    if matches_qualified(full, ("click.option",)):
        return ClickParam("option", _param_names(deco, "option"), deco)
    if matches_qualified(full, ("click.argument",)):
        return ClickParam("argument", _param_names(deco, "argument"), deco)
    return None


def _commands_assign(func: cst.FunctionDef) -> tuple[cst.Assign, str | None] | None:
    """``<cli_args>.commands = [<group>, "step"]`` inside ``runtime_step_cli``."""
    params = [p.name.value for p in func.params.params]
    cli_param = params[1] if len(params) > 1 else None

    found: list[tuple[cst.Assign, str | None]] = []
    for node in walk(func.body):
        if not isinstance(node, cst.Assign):
            continue
        for t in node.targets:
            tgt = t.target
            if (
                isinstance(tgt, cst.Attribute)
                and tgt.attr.value == "commands"
                and isinstance(tgt.value, cst.Name)
                and tgt.value.value == cli_param
            ):
                group = None
                if isinstance(node.value, (cst.List, cst.Tuple)) and node.value.elements:
                    group = string_value(node.value.elements[0].value)
                found.append((node, group))
    return found[0] if found else None


def _build(module: cst.Module, package: str) -> BackendModel:
    imports = ImportMap(module, package)
    decorators: list[DecoratorClass] = []
    commands: dict[str, ClickCommand] = {}
    add_commands: list[tuple[str, cst.Call]] = []
    descs: list[DescEntry] = []
    local_decorators: set = set()

    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            dc = _decorator_class(imports, stmt, local_decorators)
            if dc is not None:
                decorators.append(dc)
                local_decorators.add(dc.class_name)
        elif isinstance(stmt, cst.FunctionDef):
            cmd = _click_command(imports, stmt)
            if cmd is not None:
                commands[stmt.name.value] = cmd
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    descs.extend(_descs(small))
                elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    call = small.value
                    if (
                        isinstance(call.func, cst.Attribute)
                        and call.func.attr.value == "add_command"
                        and isinstance(call.func.value, cst.Name)
                    ):
                        add_commands.append((call.func.value.value, call))
    return BackendModel(imports, decorators, commands, add_commands, descs)


def _decorator_class(imports: ImportMap, node: cst.ClassDef, local: set) -> DecoratorClass | None:
    is_deco = False
    for base in node.bases:
        if base.keyword is not None:
            continue
        full = imports.resolve(base.value)
        if full in STEP_DECORATOR_BASES or (isinstance(base.value, cst.Name) and base.value.value in local):
            is_deco = True
    if not is_deco:
        return None
    methods: dict[str, cst.FunctionDef] = {}
    attrs: dict[str, cst.BaseExpression] = {}
    for stmt in node.body.body:
        if isinstance(stmt, cst.FunctionDef):
            methods[stmt.name.value] = stmt
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for t in small.targets:
                        if isinstance(t.target, cst.Name):
                            attrs[t.target.value] = small.value
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                    attrs[small.target.value] = small.value
    ca = _commands_assign(methods["runtime_step_cli"]) if "runtime_step_cli" in methods else None
    return DecoratorClass(
        node=node,
        class_name=node.name.value,
        deco_name=string_value(attrs.get("name")),
        defaults=attrs.get("defaults"),
        methods=methods,
        class_attrs=attrs,
        command_group=ca[1] if ca else None,
        commands_assign=ca[0] if ca else None,
    )


def _click_command(imports: ImportMap, func: cst.FunctionDef) -> ClickCommand | None:
    kind_info = None
    decorator = None
    params: list[ClickParam] = []
    for d in func.decorators:
        info = _click_kind(imports, d.decorator)
        if info is not None:
            kind_info = info
            decorator = d
            continue
        p = _click_param(imports, d.decorator)
        if p is not None:
            params.append(p)
    if kind_info is None or decorator is None:
        return None
    kind, parent, call = kind_info
    name = None
    if call is not None:
        kw = keyword(call, "name")
        name = string_value(kw.value) if kw is not None else None
        if name is None:
            pos = positional(call)
            if pos:
                name = string_value(pos[0].value)
    if name is None:
        name = func.name.value.lower().replace("_", "-")
    return ClickCommand(func=func, kind=kind, name=name, parent=parent, params=params, decorator=decorator)


def _descs(node: cst.Assign) -> list[DescEntry]:
    out: list[DescEntry] = []
    for t in node.targets:
        if isinstance(t.target, cst.Name) and t.target.value in DESC_NAMES:
            if isinstance(node.value, (cst.List, cst.Tuple)):
                for el in node.value.elements:
                    v = el.value
                    if isinstance(v, (cst.Tuple, cst.List)) and len(v.elements) == 2:
                        key = string_value(v.elements[0].value)
                        path = string_value(v.elements[1].value)
                        if key is not None and path is not None:
                            out.append(DescEntry(t.target.value, key, path, v))
    return out


def backend_model(file: FileContext) -> BackendModel:
    """The model of ``file`` (kept on the file; its package resolves relative imports)."""
    return file.cached(backend_model, lambda: _build(file.module, file.package_name))


def function_params(func: cst.FunctionDef) -> list[str]:
    names = [p.name.value for p in func.params.posonly_params]
    names += [p.name.value for p in func.params.params]
    names += [p.name.value for p in func.params.kwonly_params]
    return names
