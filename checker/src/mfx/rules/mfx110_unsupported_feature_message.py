"""MFX110: a feature is rejected with a message that does not say "not supported"."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import string_value, walk
from mfx.applicability import all_of
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

#: A refusal Metaflow's deployer tests recognise ("not supported", "not yet supported"), and the
#: "not currently supported" core orchestrators use.
_PHRASE = re.compile(r"not\s+(yet\s+|currently\s+)?supported", re.IGNORECASE)
#: Hooks of step/flow decorators: their errors are about the user's flow, not the orchestrator.
_DECORATOR_HOOKS = {"step_init", "flow_init", "runtime_init", "runtime_step_cli", "task_pre_step"}
_DECORATORS = {"trigger", "trigger_on_finish", "exit_hook", "parallel"}


class UnsupportedFeatureMessage(Rule):
    """## What it does
    Flags a ``raise`` in a branch that rejects a graph feature or decorator an orchestrator may
    not handle — an ``if`` testing ``node.type == "split-switch"``, ``node.parallel_foreach`` /
    ``parallel_step``, or a ``trigger``/``trigger_on_finish``/``exit_hook``/``parallel``
    decorator — when the literal message does not contain "not supported".

    ## Why is this bad?
    Rejecting what the compiler cannot run is right (pitfall O26), but tools recognise the
    rejection by the phrase "not supported": Metaflow's deployer tests skip a flow only when
    ``create()`` fails with it, and report anything else as a failure of the orchestrator.

    ## Example
    ```python
    if node.type == "split-switch":
        raise MyOrchException("Switch steps cannot be deployed yet.")
    ```

    ## Use instead
    ```python
    if node.type == "split-switch":
        raise MyOrchException("Deploying flows with switch steps is not supported by MyOrch.")
    ```

    ## Known problems
    Only the innermost ``if`` around the ``raise`` is examined, and only literal message text.
    """

    code = "MFX110"
    # Applicability pre-check (mfx.applicability), sound because every finding is a `raise` (the
    # keyword is written in the file) under an `if` that rejects a feature (_rejects_feature): the
    # attribute `parallel_foreach`/`parallel_step`, or a string value `split-switch` or one of
    # _DECORATORS, each written in the file
    TRIGGERS = all_of(("raise",), ("parallel_foreach", "parallel_step", "split-switch", *sorted(_DECORATORS)))
    name = "unsupported-feature-message"
    message = (
        'the rejection of an unsupported feature does not say "not supported": tools (and '
        "Metaflow's deployer tests) only recognise it by that phrase; reword the message"
    )
    pitfalls = ("O26",)

    VALID = [
        Valid(
            """
class ParallelDecorator(StepDecorator):
    def step_init(self, flow, graph, step_name, decorators, *args):
        if graph[step_name].type == "split-switch":
            raise MetaflowException("A @parallel step can not be a switch step.")
""",
            note="a decorator validating the flow",
        ),
        Valid(
            """
def _compile(self):
    for node in self.graph:
        if node.type == "split-switch":
            raise MyException("Deploying flows with switch statement is NOT supported currently.")
        if node.parallel_foreach:
            raise MyException(msg % node.name)
    if self.flow._flow_decorators.get("trigger"):
        raise MyException("@trigger is " "not supported by this orchestrator.")
"""
        )
    ]
    INVALID = [
        Invalid(
            """
def _compile(self):
    for node in self.graph:
        # "not supported"
        if node.type == "split-switch":
            raise MyException("Switch steps cannot be compiled (nested: %s)" % node.name)
""",
            count=1,
        ),
        Invalid(
            """
def _validate(flow):
    if flow._flow_decorators.get("exit_hook"):
        raise MyException("@exit_hook cannot be deployed.")
    for node in flow._graph:
        if any(d.name == "parallel" for d in node.decorators):
            raise MyException(f"@parallel is unsupported ({node.name})")
""",
            count=2,
        ),
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        # Every `if` of the module from its index (the analyses' field order), with its enclosing
        # functions from the index's parents: what visit_FunctionDef/visit_If gave, without an
        # index in libcst's order.
        idx = file.index
        for if_node in idx.nodes(cst.If):
            functions = [a.name.value for a in idx.ancestors(if_node) if type(a) is cst.FunctionDef]
            self._check_if(if_node, functions)  # type: ignore[arg-type]

    def _check_if(self, node: cst.If, functions: list[str]) -> None:
        if any(f in _DECORATOR_HOOKS for f in functions):
            return  # a decorator validating the user's flow, not an orchestrator refusing it
        if isinstance(node.test, cst.BooleanOperation) and isinstance(node.test.operator, cst.And):
            return  # a combination of features (e.g. @trigger *and* @trigger_on_finish) is not a feature
        if not self._rejects_feature(node.test):
            return
        for stmt in self._direct_statements(node.body):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Raise) and small.exc is not None:
                        texts = list(self._message_texts(small.exc))
                        if texts and not any(_PHRASE.search(t) for t in texts):
                            self.report(small)

    @staticmethod
    def _direct_statements(block: cst.BaseSuite) -> Iterator[cst.CSTNode]:
        body = getattr(block, "body", ())
        yield from body

    @staticmethod
    def _rejects_feature(test: cst.BaseExpression) -> bool:
        for n in walk(test):
            if isinstance(n, cst.Attribute) and n.attr.value in ("parallel_foreach", "parallel_step"):
                return True
            if isinstance(n, cst.Comparison):
                left = n.left
                for comp in n.comparisons:
                    right = comp.comparator
                    for attr_side, str_side in ((left, right), (right, left)):
                        if not isinstance(attr_side, cst.Attribute):
                            continue
                        value = string_value(str_side)
                        if attr_side.attr.value == "type" and value == "split-switch":
                            return True
                        if attr_side.attr.value == "name" and value in _DECORATORS:
                            return True
            if (
                isinstance(n, cst.Call)
                and isinstance(n.func, cst.Attribute)
                and n.func.attr.value == "get"
                and "decorators" in getattr(getattr(n.func.value, "attr", None), "value", "")
                and n.args
                and string_value(n.args[0].value) in _DECORATORS
            ):
                return True
        return False

    @staticmethod
    def _message_texts(exc: cst.BaseExpression) -> Iterator[str]:
        if not isinstance(exc, cst.Call) or not exc.args:
            return
        for n in walk(exc.args[0].value):
            if isinstance(n, (cst.SimpleString, cst.ConcatenatedString)):
                value = string_value(n)
                if value is not None:
                    yield value
            elif isinstance(n, cst.FormattedStringText):
                yield n.value
