"""MFX101: assignment to the read-only ``deployer_kwargs`` property of a DeployerImpl."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import import_map, qualify
from mfx.engine.context import FileContext
from mfx.rule import Applicability, Fix, Invalid, Report, Rule, Valid


def _is_attribute(node: cst.CSTNode, owner: str, attr: str) -> bool:
    """``node`` is ``<owner>.<attr>`` with a plain name as owner (what the libcst matcher
    ``m.Attribute(value=m.Name(owner), attr=m.Name(attr))`` tests; importing libcst.matchers costs
    ~0.4 s of start-up, more than the rest of mfx's imports together)."""
    return (
        type(node) is cst.Attribute
        and type(node.value) is cst.Name
        and node.value.value == owner
        and node.attr.value == attr
    )


class DeployerKwargsAssigned(Rule):
    """## What it does
    Flags ``self.deployer_kwargs = ...`` inside a subclass of Metaflow's ``DeployerImpl`` that
    does not define a setter for ``deployer_kwargs``.

    ## Why is this bad?
    ``DeployerImpl.deployer_kwargs`` is a read-only property. The assignment raises
    ``AttributeError: property 'deployer_kwargs' of '<cls>' object has no setter`` as soon as
    ``Deployer(flow).<type>()`` constructs the provider, so the extension cannot be used at all
    (pitfall O6, seen in metaflow-kestra 0.3.4).

    ## Example
    ```python
    class MyDeployer(DeployerImpl):
        def __init__(self, deployer_kwargs, **kwargs):
            self.deployer_kwargs = deployer_kwargs
            super().__init__(**kwargs)
    ```

    ## Use instead
    ```python
    class MyDeployer(DeployerImpl):
        def __init__(self, deployer_kwargs, **kwargs):
            self._deployer_kwargs = deployer_kwargs
            super().__init__(**kwargs)

        @property
        def deployer_kwargs(self):
            return self._deployer_kwargs
    ```

    ## Fix safety
    The fix renames the target to ``self._deployer_kwargs``. It is unsafe: the class must also
    override the ``deployer_kwargs`` property to return the backing field.
    """

    code = "MFX101"
    # Applicability pre-check (mfx.applicability), sound because it reports only inside classes
    # whose base resolves to `...DeployerImpl`; the identifier is written in the file (import or
    # attribute)
    TRIGGERS = ("DeployerImpl",)
    name = "deployer-kwargs-assigned"
    message = (
        "`self.deployer_kwargs` is a read-only property of DeployerImpl: store the kwargs in "
        "`self._deployer_kwargs` and override the `deployer_kwargs` property"
    )
    pitfalls = ("O6",)
    fix = Applicability.UNSAFE

    VALID = [
        Valid(
            """
from metaflow.runner.deployer_impl import DeployerImpl

class MyDeployer(DeployerImpl):
    TYPE = "my"
    def __init__(self, deployer_kwargs, **kwargs):
        self._deployer_kwargs = deployer_kwargs
        super().__init__(**kwargs)

    @property
    def deployer_kwargs(self):
        return self._deployer_kwargs
"""
        ),
        Valid(
            """
from metaflow.runner.deployer_impl import DeployerImpl

class MyDeployer(DeployerImpl):
    @property
    def deployer_kwargs(self):
        return self._kw

    @deployer_kwargs.setter
    def deployer_kwargs(self, value):
        self._kw = value

    def __init__(self, deployer_kwargs, **kwargs):
        self.deployer_kwargs = deployer_kwargs
""",
            note="a subclass that defines its own setter may assign",
        ),
        Valid(
            """
class NotADeployer:
    def __init__(self, deployer_kwargs):
        self.deployer_kwargs = deployer_kwargs
""",
            note="only DeployerImpl subclasses are checked",
        ),
        Valid(
            """
from metaflow.runner.deployer_impl import DeployerImpl

class MyDeployer(DeployerImpl):
    def __init__(self, deployer_kwargs, **kwargs):
        # self.deployer_kwargs = deployer_kwargs  (a comment is not code)
        self._deployer_kwargs = deployer_kwargs
        doc = "self.deployer_kwargs = x"
"""
        ),
    ]
    INVALID = [
        Invalid(
            """
from metaflow.runner.deployer_impl import DeployerImpl

class KestraDeployer(DeployerImpl):
    TYPE = "kestra"
    def __init__(self, deployer_kwargs, **kwargs):
        self.deployer_kwargs = deployer_kwargs
        super().__init__(**kwargs)
""",
            count=1,
            line=6,
            column=9,
            fixed="""
from metaflow.runner.deployer_impl import DeployerImpl

class KestraDeployer(DeployerImpl):
    TYPE = "kestra"
    def __init__(self, deployer_kwargs, **kwargs):
        self._deployer_kwargs = deployer_kwargs
        super().__init__(**kwargs)
""",
        ),
        Invalid(
            """
import metaflow.runner.deployer_impl as impl

class MyDeployer(impl.DeployerImpl):
    def __init__(self, deployer_kwargs, **kwargs):
        self.deployer_kwargs: dict = deployer_kwargs
        super().__init__(**kwargs)
""",
            count=1,
            note="annotated assignment, module alias",
        ),
    ]

    _DEPLOYER_IMPL = {
        "metaflow.runner.deployer_impl.DeployerImpl",
        "metaflow.runner.deployer.DeployerImpl",
        "metaflow.DeployerImpl",
    }

    def check(self, file: FileContext) -> Iterator[Report]:
        # Resolving bases from the module's imports is enough to identify DeployerImpl, and
        # avoids libcst's scope analysis (seconds on a large compiler module).
        imports = import_map(file.module)
        for cls in file.nodes(cst.ClassDef):
            if not self._deployer_without_setter(cls, imports):
                continue
            for node in file.nodes((cst.Assign, cst.AnnAssign), within=cls):
                if self._innermost_class(file, node) is not cls:
                    continue  # a nested class is judged on its own
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
                for target in targets:
                    if self._target_is_self_deployer_kwargs(target):
                        yield self._report_with_fix(target)

    def _deployer_without_setter(self, node: cst.ClassDef, imports) -> bool:
        is_deployer = any(qualify(base.value, imports) in self._DEPLOYER_IMPL for base in node.bases)
        has_setter = any(
            isinstance(stmt, cst.FunctionDef)
            and any(
                _is_attribute(d.decorator, "deployer_kwargs", "setter")
                for d in stmt.decorators
            )
            for stmt in node.body.body
        )
        return is_deployer and not has_setter

    @staticmethod
    def _innermost_class(file: FileContext, node: cst.CSTNode) -> cst.CSTNode | None:
        parent = file.parent_of(node)
        while parent is not None and not isinstance(parent, cst.ClassDef):
            parent = file.parent_of(parent)
        return parent

    def _target_is_self_deployer_kwargs(self, target: cst.BaseExpression) -> bool:
        return _is_attribute(target, "self", "deployer_kwargs")

    def _report_with_fix(self, target: cst.BaseExpression) -> Report:
        backing = target.with_changes(attr=cst.Name("_deployer_kwargs"))
        return self.report(
            target,
            fix=Fix(target, backing, Applicability.UNSAFE, "Store the kwargs in `self._deployer_kwargs`"),
        )
