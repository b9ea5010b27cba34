"""MFX103: a tuple passed to a command of Metaflow's click API (the "run_params tuple" bug)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.orchestrator_command import assignments
from mfx.analysis.orchestrator_names import call_name
from mfx.rule import Applicability, Fix, Invalid, Metadata, Rule, Valid


class TupleForMultipleOption(Rule):
    """## What it does
    Flags a tuple (a tuple display, ``tuple(...)``) given as a keyword argument to a command of
    Metaflow's click API — a method called on the result of ``get_lower_level_group(...)`` —
    directly, through a local variable, or through a ``**kwargs`` dict built in the same function.

    ## Why is this bad?
    The click API type-checks every argument against an annotation derived from the click option.
    For ``multiple=True`` options that annotation is ``Union[List[T], Tuple[T]]``, and ``Tuple[T]``
    means a tuple of exactly one element: with two or more values the call fails with
    ``TypeError: Invalid type for 'run_params'`` (pitfall O8, metaflow-kestra 0.3.4). A list is
    always accepted.

    ## Example
    ```python
    trigger_kwargs["run_params"] = tuple("%s=%s" % kv for kv in params.items())
    get_lower_level_group(api, top_kwargs, TYPE, dkw).trigger(**trigger_kwargs)
    ```

    ## Use instead
    ```python
    trigger_kwargs["run_params"] = list("%s=%s" % kv for kv in params.items())
    get_lower_level_group(api, top_kwargs, TYPE, dkw).trigger(**trigger_kwargs)
    ```

    ## Fix safety
    Safe: the fix turns the tuple into a list with the same elements, which the click API passes
    to the command exactly as it would a one-element tuple.

    ## Known problems
    Only values built inside the calling function are traced.
    """

    code = "MFX103"
    name = "tuple-for-multiple-option"
    message = (
        "a tuple passed to Metaflow's click API fails its type check once it has 2+ elements "
        "(`Tuple[T]` means one element): pass a list"
    )
    pitfalls = ("O8",)
    fix = Applicability.SAFE
    METADATA = frozenset({Metadata.QUALIFIED_NAMES, Metadata.PARENTS})

    VALID = [
        Valid(
            """
from metaflow.runner.utils import get_lower_level_group

def trigger(self, **kwargs):
    command = get_lower_level_group(
        self.deployer.api, self.deployer.top_level_kwargs, self.deployer.TYPE, self.deployer.deployer_kwargs
    ).trigger(deployer_attribute_file="f", **kwargs)
    return command
"""
        ),
        Valid(
            """
from metaflow.runner.utils import get_lower_level_group

def trigger(self, params):
    run_params = list("%s=%s" % kv for kv in params.items())
    grp = get_lower_level_group(self.api, {}, "x", {})
    return grp.trigger(run_params=run_params, tags=["a", "b"])
"""
        ),
        Valid(
            """
def other(client, values):
    # tuples to unrelated APIs are fine
    return client.trigger(run_params=tuple(values))
"""
        ),
        Valid(
            """
from metaflow.runner.utils import get_lower_level_group

def trigger(self, values):
    def tuple(x):
        return list(x)
    return get_lower_level_group(self.api, {}, "x", {}).trigger(run_params=tuple(values))
""",
            note="a local function named tuple is not the builtin",
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.runner.utils import get_lower_level_group

def run(self, **kwargs):
    trigger_kwargs = {"deployer_attribute_file": "f"}
    trigger_kwargs["run_params"] = tuple("%s=%s" % (k, v) for k, v in kwargs.items())
    command = get_lower_level_group(self.api, {}, "kestra", {}).trigger(**trigger_kwargs)
    return command
""",
            count=1,
            fixed="""
from metaflow.runner.utils import get_lower_level_group

def run(self, **kwargs):
    trigger_kwargs = {"deployer_attribute_file": "f"}
    trigger_kwargs["run_params"] = list("%s=%s" % (k, v) for k, v in kwargs.items())
    command = get_lower_level_group(self.api, {}, "kestra", {}).trigger(**trigger_kwargs)
    return command
""",
        ),
        Invalid(
            """
from metaflow.runner.utils import get_lower_level_group

def create(self, tags):
    grp = get_lower_level_group(self.api, {}, "x", {})
    return grp.create(tags=("a", "b"), deployer_attribute_file="f")
""",
            count=1,
            fixed="""
from metaflow.runner.utils import get_lower_level_group

def create(self, tags):
    grp = get_lower_level_group(self.api, {}, "x", {})
    return grp.create(tags=["a", "b"], deployer_attribute_file="f")
""",
        ),
        Invalid(
            """
from metaflow.runner.utils import get_lower_level_group

def create(self, tags):
    tag_values = tuple(tags)
    kw = dict(tags=tag_values)
    return get_lower_level_group(self.api, {}, "x", {}).create(**kw)
""",
            count=1,
            note="through a local variable and dict(...)",
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        groups = self._group_names(node)
        for call in self._calls(node):
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            receiver = func.value
            is_group = (isinstance(receiver, cst.Call) and call_name(receiver) == "get_lower_level_group") or (
                isinstance(receiver, cst.Name) and receiver.value in groups
            )
            if not is_group:
                continue
            for arg in call.args:
                if arg.keyword is not None:
                    self._check_value(arg.value, node, 2)
                elif arg.star == "**" and isinstance(arg.value, cst.Name):
                    for value in self._dict_values(node, arg.value.value):
                        self._check_value(value, node, 2)

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _calls(func: cst.FunctionDef) -> list[cst.Call]:
        out: list[cst.Call] = []

        def visit(n: cst.CSTNode) -> None:
            for child in n.children:
                if isinstance(child, (cst.FunctionDef, cst.ClassDef)):
                    continue
                if isinstance(child, cst.Call):
                    out.append(child)
                visit(child)

        visit(func.body)
        return out

    def _group_names(self, func: cst.FunctionDef) -> set[str]:
        names = set()
        for stmt_value, target in self._assigns(func):
            if isinstance(stmt_value, cst.Call) and call_name(stmt_value) == "get_lower_level_group":
                names.add(target)
        return names

    @staticmethod
    def _assigns(func: cst.FunctionDef) -> list[tuple[cst.BaseExpression, str]]:
        out = []

        def visit(n: cst.CSTNode) -> None:
            for child in n.children:
                if isinstance(child, (cst.FunctionDef, cst.ClassDef)):
                    continue
                if isinstance(child, cst.Assign):
                    for t in child.targets:
                        if isinstance(t.target, cst.Name):
                            out.append((child.value, t.target.value))
                visit(child)

        visit(func.body)
        return out

    def _dict_values(self, func: cst.FunctionDef, name: str) -> list[cst.BaseExpression]:
        """Values stored in the dict ``name`` inside ``func``."""
        out: list[cst.BaseExpression] = []
        for value in assignments(func, name):
            if isinstance(value, cst.Dict):
                out.extend(el.value for el in value.elements if isinstance(el, cst.DictElement))
            elif isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
                out.extend(a.value for a in value.args if a.keyword is not None)

        def visit(n: cst.CSTNode) -> None:
            for child in n.children:
                if isinstance(child, (cst.FunctionDef, cst.ClassDef)):
                    continue
                if isinstance(child, cst.Assign):
                    for t in child.targets:
                        tgt = t.target
                        if isinstance(tgt, cst.Subscript) and isinstance(tgt.value, cst.Name) and tgt.value.value == name:
                            out.append(child.value)
                if isinstance(child, cst.Call) and isinstance(child.func, cst.Attribute):
                    f = child.func
                    if isinstance(f.value, cst.Name) and f.value.value == name and f.attr.value == "update":
                        out.extend(a.value for a in child.args if a.keyword is not None)
                visit(child)

        visit(func.body)
        return out

    def _check_value(self, value: cst.BaseExpression, func: cst.FunctionDef, depth: int) -> None:
        if isinstance(value, cst.Tuple):
            # The tuple's own parentheses lie outside its position: replace it within its parent.
            parent = self.parent(value)
            fix = None
            if parent is not None:
                new_parent = parent.deep_replace(value, cst.List(elements=value.elements))
                if hasattr(new_parent, "comma"):  # the separator lies outside the position too
                    new_parent = new_parent.with_changes(comma=cst.MaybeSentinel.DEFAULT)
                fix = Fix(parent, new_parent, Applicability.SAFE, "Use a list")
            self.report(value, fix=fix)
        elif (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Name)
            and "builtins.tuple" in self.qualified_names(value.func)
        ):
            self.report(value, fix=Fix(value.func, cst.Name("list"), Applicability.SAFE, "Use list(...)"))
        elif isinstance(value, cst.Name) and depth > 0:
            for assigned in assignments(func, value.value):
                self._check_value(assigned, func, depth - 1)
