"""MFX103: a tuple passed to a command of Metaflow's click API (the "run_params tuple" bug)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.orchestrator_command import assignments
from mfx.analysis.orchestrator_names import SCOPES, call_name, walk
from mfx.engine.context import FileContext
from mfx.rule import Applicability, Fix, Invalid, Rule, Valid


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
    The fix turns the tuple into a list with the same elements, which the click API passes to
    the command exactly as it would a one-element tuple. It is safe where the tuple is written
    directly as the argument or into the ``**kwargs`` dict, and unsafe where it is a local
    variable's value: other uses of that variable may need a tuple.

    ## Known problems
    Only values built inside the calling function are traced.
    """

    code = "MFX103"
    # Applicability pre-check (mfx.applicability), sound because every finding is an argument of a
    # call on `get_lower_level_group(...)` or on a variable assigned from such a call: the
    # identifier is written in the file
    TRIGGERS = ("get_lower_level_group",)
    name = "tuple-for-multiple-option"
    message = (
        "a tuple passed to Metaflow's click API fails its type check once it has 2+ elements "
        "(`Tuple[T]` means one element): pass a list"
    )
    pitfalls = ("O8",)
    fix = Applicability.SAFE

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

    def check(self, file: FileContext) -> None:
        for func in file.nodes(cst.FunctionDef):
            self._check_function(func)

    def _check_function(self, node: cst.FunctionDef) -> None:
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
                    self._check_value(arg.value, node, 2, arg)
                elif arg.star == "**" and isinstance(arg.value, cst.Name):
                    for value, holder in self._dict_values(node, arg.value.value):
                        self._check_value(value, node, 2, holder)

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _calls(func: cst.FunctionDef) -> list[cst.Call]:
        return [n for n in walk(func.body, SCOPES) if type(n) is cst.Call]

    def _group_names(self, func: cst.FunctionDef) -> set[str]:
        names = set()
        for stmt_value, target in self._assigns(func):
            if isinstance(stmt_value, cst.Call) and call_name(stmt_value) == "get_lower_level_group":
                names.add(target)
        return names

    @staticmethod
    def _assigns(func: cst.FunctionDef) -> list[tuple[cst.BaseExpression, str]]:
        out = []
        for n in walk(func.body, SCOPES):
            if type(n) is cst.Assign:
                out.extend((n.value, t.target.value) for t in n.targets if type(t.target) is cst.Name)
        return out

    def _dict_values(self, func: cst.FunctionDef, name: str) -> list[tuple[cst.BaseExpression, cst.CSTNode]]:
        """(value, node holding it) for the values stored in the dict ``name`` inside ``func``."""
        out: list[tuple[cst.BaseExpression, cst.CSTNode]] = []
        for value in assignments(func, name):
            if isinstance(value, cst.Dict):
                out.extend((el.value, el) for el in value.elements if isinstance(el, cst.DictElement))
            elif isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
                out.extend((a.value, a) for a in value.args if a.keyword is not None)

        for child in walk(func.body, SCOPES):
            if isinstance(child, cst.Assign):
                for t in child.targets:
                    tgt = t.target
                    if isinstance(tgt, cst.Subscript) and isinstance(tgt.value, cst.Name) and tgt.value.value == name:
                        out.append((child.value, child))
            if isinstance(child, cst.Call) and isinstance(child.func, cst.Attribute):
                f = child.func
                if isinstance(f.value, cst.Name) and f.value.value == name and f.attr.value == "update":
                    out.extend((a.value, a) for a in child.args if a.keyword is not None)
        return out

    def _check_value(
        self,
        value: cst.BaseExpression,
        func: cst.FunctionDef,
        depth: int,
        holder: cst.CSTNode | None,
        applicability: Applicability = Applicability.SAFE,
    ) -> None:
        if isinstance(value, cst.Tuple):
            # The tuple's parentheses and the holder's comma lie outside the tuple's position:
            # rewrite the holder (argument, dict entry or assignment) instead.
            fix = None
            if isinstance(holder, (cst.Arg, cst.DictElement, cst.Assign)):
                changes: dict = {"value": cst.List(elements=value.elements)}
                if isinstance(holder, cst.Assign):
                    changes["semicolon"] = cst.MaybeSentinel.DEFAULT
                else:
                    changes["comma"] = cst.MaybeSentinel.DEFAULT
                fix = Fix(holder, holder.with_changes(**changes), applicability, "Use a list")
            self.report(value, fix=fix)
        elif (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Name)
            and value.func.value == "tuple"
            and not self._shadowed("tuple", func)
        ):
            self.report(value, fix=Fix(value.func, cst.Name("list"), applicability, "Use list(...)"))
        elif isinstance(value, cst.Name) and depth > 0:
            # The variable may have other uses that need a tuple (hashing, `+ (x,)`): unsafe.
            for assign in self._assign_nodes(func, value.value):
                self._check_value(assign.value, func, depth - 1, assign, Applicability.UNSAFE)

    def _shadowed(self, name: str, func: cst.FunctionDef) -> bool:
        """``name`` is bound in the module or the function (so it is not the builtin)."""
        bound = {p.name.value for p in (*func.params.params, *func.params.kwonly_params, *func.params.posonly_params)}
        for scope in (self.file.module, func.body):
            for n in walk(scope):
                if isinstance(n, (cst.FunctionDef, cst.ClassDef)) and n.name.value == name:
                    bound.add(name)
                elif isinstance(n, cst.Assign):
                    bound.update(t.target.value for t in n.targets if isinstance(t.target, cst.Name))
                elif isinstance(n, cst.ImportAlias):
                    target = n.asname.name if n.asname is not None else n.name
                    if isinstance(target, cst.Name):
                        bound.add(target.value)
        return name in bound

    @staticmethod
    def _assign_nodes(func: cst.FunctionDef, name: str) -> list[cst.Assign]:
        return [
            n
            for n in walk(func.body)
            if isinstance(n, cst.Assign)
            and any(isinstance(t.target, cst.Name) and t.target.value == name for t in n.targets)
        ]
