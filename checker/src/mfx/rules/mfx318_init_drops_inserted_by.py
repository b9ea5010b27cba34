"""MFX318: a step decorator's ``__init__`` does not accept ``inserted_by`` (B22)."""

from __future__ import annotations

import libcst as cst

from mfx.analysis.backend_base import BackendFileRule
from mfx.analysis.backend_model import BackendModel
from mfx.rule import Applicability, Fix, Invalid, Valid


class _AddInsertedBy(cst.CSTTransformer):
    """Adds ``inserted_by=None`` to the signature and forwards it to ``super().__init__``."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        if self.depth:
            return updated
        param = cst.Param(
            name=cst.Name("inserted_by"),
            default=cst.Name("None"),
            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
        )
        params = list(updated.params.params)
        if params and params[-1].comma is cst.MaybeSentinel.DEFAULT:
            params[-1] = params[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        params.append(param)
        return updated.with_changes(params=updated.params.with_changes(params=params))

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        f = updated.func
        if (
            isinstance(f, cst.Attribute)
            and f.attr.value == "__init__"
            and isinstance(f.value, cst.Call)
            and isinstance(f.value.func, cst.Name)
            and f.value.func.value == "super"
        ):
            args = list(updated.args)
            if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            args.append(
                cst.Arg(
                    keyword=cst.Name("inserted_by"),
                    value=cst.Name("inserted_by"),
                    equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
                )
            )
            return updated.with_changes(args=args)
        return updated


class InitDropsInsertedBy(BackendFileRule):
    """## What it does
    Flags an ``__init__`` of a ``StepDecorator`` subclass that accepts neither ``inserted_by``
    nor ``**kwargs``.

    ## Why is this bad?
    Metaflow constructs step decorators as ``cls(attributes=..., statically_defined=...,
    inserted_by=...)``. When a ``StepMutator`` (or ``--with``) adds the decorator, the call
    passes ``inserted_by`` and an ``__init__`` that drops it raises ``TypeError`` (pitfall B22;
    metaflow-slurm's ``__init__(self, attributes=None, statically_defined=False)``).
    Configuration defaults belong in ``init()`` rather than ``__init__``.

    ## Example
    ```python
    def __init__(self, attributes=None, statically_defined=False):
        super().__init__(attributes, statically_defined)
    ```

    ## Use instead
    ```python
    def __init__(self, attributes=None, statically_defined=False, inserted_by=None):
        super().__init__(attributes, statically_defined, inserted_by=inserted_by)
    ```

    ## Fix safety
    The fix adds ``inserted_by=None`` and forwards it to ``super().__init__``. Unsafe: a base
    class other than ``StepDecorator`` may not accept it.
    """

    code = "MFX318"
    # Applicability pre-check (mfx.applicability), sound because it only reports on the step
    # decorator classes of the backend model, which are recognised by a base resolving to
    # `metaflow[.decorators].StepDecorator` (or a class of the same file that does): the identifier
    # `StepDecorator` is then written in the file
    TRIGGERS = ("StepDecorator",)
    name = "init-drops-inserted-by"
    message = (
        "step decorator `__init__` must accept `inserted_by` (or **kwargs): Metaflow passes it when a "
        "StepMutator adds the decorator; add `inserted_by=None` and forward it, or move the code to `init()`"
    )
    pitfalls = ("B22",)
    fix = Applicability.UNSAFE
    applies_to_core = True

    VALID = [
        Valid(
            """
from metaflow.decorators import StepDecorator

class A(StepDecorator):
    name = "a"
    def __init__(self, attributes=None, statically_defined=False, inserted_by=None):
        super().__init__(attributes, statically_defined, inserted_by)

class B(StepDecorator):
    name = "b"
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

class C(StepDecorator):
    name = "c"
    def init(self):
        self.attributes.setdefault("x", 1)
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.decorators import StepDecorator

class SlurmDecorator(StepDecorator):
    name = "slurm"
    def __init__(self, attributes=None, statically_defined=False):
        super(SlurmDecorator, self).__init__(attributes, statically_defined)
""",
            count=1,
            fixed="""
from metaflow.decorators import StepDecorator

class SlurmDecorator(StepDecorator):
    name = "slurm"
    def __init__(self, attributes=None, statically_defined=False, inserted_by=None):
        super(SlurmDecorator, self).__init__(attributes, statically_defined, inserted_by=inserted_by)
""",
        ),
    ]

    def check_model(self, model: BackendModel, module: cst.Module) -> None:
        for d in model.decorators:
            init = d.methods.get("__init__")
            if init is None:
                continue
            p = init.params
            names = [x.name.value for x in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)]
            if "inserted_by" in names or p.star_kwarg is not None:
                continue
            fix = None
            if not p.kwonly_params and not isinstance(p.star_arg, cst.Param):
                fix = Fix(init, self._fixed_text(module, d.node, init), Applicability.UNSAFE, "Accept and forward inserted_by")
            self.report(init.name, fix=fix)

    @staticmethod
    def _fixed_text(module: cst.Module, cls: cst.ClassDef, init: cst.FunctionDef) -> str:
        """The rewritten method as text, re-indented to its place in the class body."""
        new = init.visit(_AddInsertedBy())
        assert isinstance(new, cst.FunctionDef)
        text = module.code_for_node(new.with_changes(leading_lines=())).rstrip("\n")
        indent = cls.body.indent if isinstance(cls.body, cst.IndentedBlock) and cls.body.indent is not None else module.default_indent
        lines = text.split("\n")
        return "\n".join([lines[0]] + [indent + line if line else line for line in lines[1:]])
