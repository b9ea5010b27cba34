"""MFX210: config parameters are turned into ``--<name>`` options of ``init``."""

from __future__ import annotations

import re

import libcst as cst

from mfx.analysis.orchestrator_names import dotted, walk
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Rule, Valid

_OPTIONISH = re.compile(r"^\s*--|METAFLOW_INIT_")


class ConfigParameterPassedToInit(Rule):
    """## What it does
    Flags a loop or comprehension over ``flow._get_parameters()`` that builds command options
    (strings starting with ``--``, or ``METAFLOW_INIT_`` variables) without checking
    ``param.IS_CONFIG_PARAMETER``; and an ``isinstance`` filter applied to the whole item of
    that iteration.

    ## Why is this bad?
    ``_get_parameters()`` also yields ``Config`` objects, which are not options of ``init``:
    the run fails with ``no such option: --<config>`` (pitfall O10). Configs travel through
    ``--config-value``/``METAFLOW_FLOW_CONFIG_VALUE``. The iteration yields ``(name, param)``
    tuples, so ``isinstance(p, Config)`` on the item never filters anything.

    ## Example
    ```python
    for p in flow._get_parameters():
        if isinstance(p, Config):
            continue
        args += ["--%s" % p[1].name, values[p[1].name]]
    ```

    ## Use instead
    ```python
    for _, param in flow._get_parameters():
        if param.IS_CONFIG_PARAMETER:
            continue
        args += ["--%s" % param.name, values[param.name]]
    ```
    """

    code = "MFX210"
    # Applicability pre-check (mfx.applicability), sound because it reports only inside loops and
    # comprehensions over `<x>._get_parameters()`: the identifier is written in the file
    TRIGGERS = ("_get_parameters",)
    name = "config-parameter-passed-to-init"
    message = (
        "this loop over `_get_parameters()` builds options without skipping configs: add "
        "`if param.IS_CONFIG_PARAMETER: continue` (configs go through --config-value)"
    )
    pitfalls = ("O10",)

    VALID = [
        Valid(
            """
def init_args(flow, values):
    args = []
    for _, param in flow._get_parameters():
        if param.IS_CONFIG_PARAMETER:
            continue
        args += ["--%s" % param.name, values[param.name]]
    names = [p.name for _, p in flow._get_parameters() if not p.IS_CONFIG_PARAMETER]
    defaults = {p.name: p.kwargs.get("default") for _, p in flow._get_parameters()}
    return args, names, defaults
"""
        )
    ]
    INVALID = [
        Invalid(
            """
from metaflow import Config

def init_args(flow, values):
    args = []
    for p in flow._get_parameters():
        if isinstance(p, Config):
            continue
        args += ["--%s" % p[1].name, values[p[1].name]]
    env = {"METAFLOW_INIT_" + param.name.upper(): "1" for _, param in flow._get_parameters()}
    return args, env
""",
            count=3,
        )
    ]

    def check(self, file: FileContext) -> None:
        for node in file.nodes((cst.For, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            if isinstance(node, cst.For):
                if self._over_parameters(node.iter):
                    self._check(node, node.target, [node.body])
            elif isinstance(node, cst.DictComp):
                self._check_comp(node, [node.key, node.value])
            else:
                self._check_comp(node, [node.elt])

    def _check_comp(self, node: cst.CSTNode, parts: list) -> None:
        comp = node.for_in  # type: ignore[attr-defined]
        if self._over_parameters(comp.iter):
            self._check(node, comp.target, parts + list(comp.ifs))

    @staticmethod
    def _over_parameters(expr: cst.BaseExpression) -> bool:
        return (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value == "_get_parameters"
        )

    def _check(self, node: cst.CSTNode, target: cst.BaseExpression, parts: list) -> None:
        nodes = [n for p in parts for n in walk(p)]
        if isinstance(target, cst.Name):
            for n in nodes:
                if (
                    isinstance(n, cst.Call)
                    and dotted(n.func) == "isinstance"
                    and n.args
                    and dotted(n.args[0].value) == target.value
                ):
                    self.report(
                        n,
                        "`_get_parameters()` yields `(name, param)` tuples: this isinstance() "
                        "never filters; unpack the item and test `param.IS_CONFIG_PARAMETER`",
                    )
        if any(isinstance(n, cst.Name) and n.value == "IS_CONFIG_PARAMETER" for n in nodes):
            return
        if any(
            isinstance(n, (cst.SimpleString, cst.FormattedStringText)) and _OPTIONISH.search(self._text(n))
            for n in nodes
        ):
            self.report(node)

    @staticmethod
    def _text(n: cst.CSTNode) -> str:
        if isinstance(n, cst.SimpleString):
            value = n.evaluated_value
            return value if isinstance(value, str) else ""
        return n.value  # type: ignore[attr-defined]
