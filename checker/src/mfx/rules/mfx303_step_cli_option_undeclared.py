"""MFX303: ``runtime_step_cli`` forwards options or arguments the trampoline CLI does not declare (B3)."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.backend_base import find_nodes
from mfx.analysis.backend_model import DecoratorClass, normalize_option
from mfx.analysis.backend_names import string_value
from mfx.analysis.backend_project import cli_for_group, compute_decorators
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_REG = 'CLIS_DESC = [("mybk", ".mybk_cli.cli")]\n'


def _deco(defaults: str, body: str) -> str:
    return (
        "import sys\nfrom metaflow.decorators import StepDecorator\n\n"
        "class MyBkDecorator(StepDecorator):\n"
        '    name = "mybk"\n'
        f"    defaults = {defaults}\n\n"
        "    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):\n"
        '        cli_args.commands = ["mybk", "step"]\n'
        "        cli_args.command_args.append(self.package_metadata)\n"
        "        cli_args.command_args.append(self.package_sha)\n"
        "        cli_args.command_args.append(self.package_url)\n"
        + body
    )


def _cli(decorators: str) -> str:
    return (
        "import click\n\n@click.group()\ndef cli():\n    pass\n\n"
        "@cli.group()\ndef mybk():\n    pass\n\n"
        '@mybk.command()\n@click.argument("step-name")\n'
        + decorators
        + "def step(step_name, **kwargs):\n    pass\n"
    )


_ARGS = '@click.argument("code-package-metadata")\n@click.argument("code-package-sha")\n@click.argument("code-package-url")\n'


class StepCliOptionUndeclared(ProjectRule):
    """## What it does
    Compares what a compute-backend decorator's ``runtime_step_cli`` puts on the command line
    with what its trampoline ``step`` command declares: every forwarded attribute (the literal
    keys of ``defaults``, minus keys the method skips or the class pops from
    ``self.attributes``) and every literal ``command_options[...]`` key must be a declared
    ``click.option``, and the number of ``command_args.append(...)`` calls must equal the
    number of ``click.argument``\\ s after ``step-name``.

    ## Why is this bad?
    Each attribute becomes ``--<key>`` on the trampoline command line. An option the CLI does not
    declare fails every task with click's "No such option"; an argument count mismatch gives
    "Got unexpected extra argument" or shifts the package URL into the wrong parameter
    (pitfall B3; the metaflow-backend-kit scaffold has both).

    ## Example
    ```python
    defaults = {"cpu": None, "image": None}
    def runtime_step_cli(self, cli_args, ...):
        cli_args.command_options.update(self.attributes)   # --cpu --image
    # but the CLI declares only --cpu
    ```

    ## Use instead
    Declare ``@click.option("--image")`` on the ``step`` command (or skip the key).

    ## Known problems
    Forwarding through helper functions or computed keys is not followed; such options are not
    checked.
    """

    code = "MFX303"
    name = "step-cli-option-undeclared"
    message = "runtime_step_cli forwards options the trampoline does not declare"
    pitfalls = ("B3",)
    applies_to_core = True

    VALID = [
        Valid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _deco(
                    '{"cpu": None, "tags": None, "alias": None}',
                    '        _skip = ["tags"]\n'
                    "        cli_args.command_options.update({k: v for k, v in self.attributes.items() if k not in _skip})\n"
                    '        cli_args.command_options["run-time-limit"] = self.run_time_limit\n'
                    "    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):\n"
                    '        self.attributes.pop("alias", None)\n',
                ),
                "p/mybk_cli.py": _cli(_ARGS + '@click.option("--cpu")\n@click.option("--run-time-limit", type=int)\n'),
            },
            note="skipped and popped keys are not forwarded",
        ),
        Valid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _deco(
                    '{"namespace": None, "cpu": None}',
                    "        for k, v in self.attributes.items():\n"
                    '            if k == "namespace":\n'
                    '                cli_args.command_options["k8s_namespace"] = v\n'
                    "            else:\n"
                    "                cli_args.command_options[k] = v\n",
                ),
                "p/mybk_cli.py": _cli(_ARGS + '@click.option("--cpu")\n@click.option("--k8s-namespace")\n'),
            },
            note="the kubernetes loop that renames a key",
        ),
    ]
    INVALID = [
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _deco(
                    '{"cpu": None, "image": None}',
                    "        cli_args.command_options.update(self.attributes)\n"
                    '        cli_args.command_options["run-time-limit"] = self.run_time_limit\n',
                ),
                "p/mybk_cli.py": _cli(_ARGS + '@click.option("--cpu")\n'),
            },
            count=1,
            note="--image and --run-time-limit undeclared",
        ),
        Invalid(
            {
                "p/mfextinit_x.py": _REG,
                "p/mybk_decorator.py": _deco("{}", ""),
                "p/mybk_cli.py": _cli(""),
            },
            count=1,
            note="three positional package arguments, none declared (kit scaffold)",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        for f, deco in compute_decorators(project):
            cli = cli_for_group(project, deco.command_group)
            if cli is None or cli.step is None:
                continue
            func = deco.methods["runtime_step_cli"]
            forwarded = self._forwarded(deco, func)
            declared = set(cli.step.options)
            undeclared = sorted(k for k in forwarded if normalize_option(k) not in declared)
            if undeclared:
                yield Report(
                    node=func.name,
                    path=f.path,
                    message=(
                        "runtime_step_cli forwards "
                        + ", ".join(f"--{normalize_option(k)}" for k in undeclared)
                        + f" but `{cli.group.name if cli.group else ''} step` in {cli.file.path} does not declare "
                        "them: every task fails with click's 'No such option'; declare them or skip the keys"
                    ),
                )
            appended = self._appended_args(func)
            names = [a.names[0] if a.names else "" for a in cli.step.arguments]
            after = names[names.index("step-name") + 1:] if "step-name" in names else names
            if appended is not None and appended != len(after):
                yield Report(
                    node=func.name,
                    path=f.path,
                    message=(
                        f"runtime_step_cli appends {appended} positional command argument(s) but "
                        f"`step` declares {len(after)} click.argument(s) after `step-name`: click "
                        "rejects the extra ones or binds them to the wrong parameter; make them match"
                    ),
                )

    # -- what runtime_step_cli forwards ---------------------------------------------------------
    def _forwarded(self, deco: DecoratorClass, func: cst.FunctionDef) -> set[str]:
        keys = deco.defaults_keys()
        all_keys: set[str] = set(keys) if keys is not None else set()
        popped = self._popped(deco.node)
        skip_lists = self._literal_lists(func)
        out: set[str] = set()
        for call in find_nodes(func.body, cst.Call):
            f = call.func
            if not (isinstance(f, cst.Attribute) and f.attr.value == "update" and self._is_options(f.value)):
                continue
            if not call.args:
                continue
            arg = call.args[0].value
            if self._is_self_attributes(arg):
                out |= all_keys
            elif isinstance(arg, cst.DictComp) and self._iterates_attributes(arg.for_in):
                skipped: set[str] = set()
                for cond in arg.for_in.ifs:
                    skipped |= self._strings_in(cond.test, skip_lists)
                out |= all_keys - skipped
            elif isinstance(arg, cst.Dict):
                for el in arg.elements:
                    if isinstance(el, cst.DictElement) and string_value(el.key) is not None:
                        out.add(string_value(el.key))
        for loop in find_nodes(func.body, cst.For):
            if self._iterates_attributes(loop) and any(
                isinstance(t.target, cst.Subscript) and self._is_options(t.target.value)
                for a in find_nodes(loop.body, cst.Assign)
                for t in a.targets
            ):
                out |= all_keys - self._strings_in(loop.body, skip_lists)
        for a in find_nodes(func.body, cst.Assign):
            for t in a.targets:
                tgt = t.target
                if isinstance(tgt, cst.Subscript) and self._is_options(tgt.value) and len(tgt.slice) == 1:
                    sl = tgt.slice[0].slice
                    if isinstance(sl, cst.Index) and string_value(sl.value) is not None:
                        out.add(string_value(sl.value))
        return out - popped

    @staticmethod
    def _is_options(node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Attribute) and node.attr.value == "command_options"

    @staticmethod
    def _is_self_attributes(node: cst.BaseExpression) -> bool:
        return (
            isinstance(node, cst.Attribute)
            and node.attr.value == "attributes"
            and isinstance(node.value, cst.Name)
            and node.value.value == "self"
        )

    def _iterates_attributes(self, loop) -> bool:
        it = loop.iter
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value in ("items", "keys"):
            return self._is_self_attributes(it.func.value)
        return self._is_self_attributes(it)

    @staticmethod
    def _literal_lists(func: cst.FunctionDef) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for a in find_nodes(func.body, cst.Assign):
            if isinstance(a.value, (cst.List, cst.Tuple, cst.Set)) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name):
                vals = {string_value(e.value) for e in a.value.elements}
                out[a.targets[0].target.value] = {v for v in vals if v is not None}
        return out

    @staticmethod
    def _strings_in(node: cst.CSTNode, lists: dict[str, set[str]]) -> set[str]:
        out: set[str] = set()
        for cmp in find_nodes(node, cst.Comparison):
            for s in find_nodes(cmp, cst.SimpleString):
                v = string_value(s)
                if v is not None:
                    out.add(v)
            for n in find_nodes(cmp, cst.Name):
                out |= lists.get(n.value, set())
        return out

    @staticmethod
    def _popped(class_def: cst.ClassDef) -> set[str]:
        out: set[str] = set()
        for call in find_nodes(class_def, cst.Call):
            f = call.func
            if isinstance(f, cst.Attribute) and f.attr.value == "pop" and StepCliOptionUndeclared._is_self_attributes(f.value):
                if call.args and string_value(call.args[0].value) is not None:
                    out.add(string_value(call.args[0].value))
        for d in find_nodes(class_def, cst.Del):
            for sub in find_nodes(d, cst.Subscript):
                if StepCliOptionUndeclared._is_self_attributes(sub.value) and isinstance(sub.slice[0].slice, cst.Index):
                    v = string_value(sub.slice[0].slice.value)
                    if v is not None:
                        out.add(v)
        return out

    @staticmethod
    def _appended_args(func: cst.FunctionDef) -> int | None:
        count = 0
        for call in find_nodes(func.body, cst.Call):
            f = call.func
            if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Attribute) and f.value.attr.value == "command_args":
                if f.attr.value == "append":
                    count += 1
                elif f.attr.value == "extend":
                    if call.args and isinstance(call.args[0].value, (cst.List, cst.Tuple)):
                        count += len(call.args[0].value.elements)
                    else:
                        return None
        return count
