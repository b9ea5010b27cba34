"""MFX223: flow parameters collected without skipping configs, emitted as options elsewhere."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import SCOPES, call_name, dotted, string_value, walk
from mfx.analysis.orchestrator_project import extension_of, nodes_of, source_files
from mfx.engine.context import FileContext, ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_OPTIONISH = re.compile(r"^\s*--|METAFLOW_INIT_")
_LOOPS = (cst.For, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


class UnfilteredParametersEmitted(ProjectRule):
    """## What it does
    Follows what ``flow._get_parameters()`` yields when it leaves the loop that calls it: a
    function that collects the parameters (returns them, or stores them on ``self``) without
    testing ``IS_CONFIG_PARAMETER``, and a loop or comprehension elsewhere — another function,
    another module, a local holding the collection, a parameter fed by a caller — that turns
    the collected items into ``--<name>`` options or ``METAFLOW_INIT_*`` variables without that
    test either.

    ## Why is this bad?
    ``_get_parameters()`` also yields ``Config`` objects, and ``init`` has no option for them:
    the run fails with ``no such option: --<config>`` (pitfall O10). It does not matter how many
    functions lie between the collection and the command: one of them must skip configs (they
    travel through ``--config-value``/``METAFLOW_FLOW_CONFIG_VALUE``).

    ## Example
    ```python
    def flow_parameters(flow):
        return {name: param for name, param in flow._get_parameters()}

    def init_options(flow, values):
        return ["--%s=%s" % (n, values[n]) for n in flow_parameters(flow)]
    ```

    ## Use instead
    ```python
    def flow_parameters(flow):
        return {n: p for n, p in flow._get_parameters() if not p.IS_CONFIG_PARAMETER}
    ```
    """

    code = "MFX223"
    name = "unfiltered-parameters-emitted"
    message = (
        "these parameters come from `_get_parameters()` without skipping configs and become options here: "
        "skip `param.IS_CONFIG_PARAMETER` where they are collected or here (configs go through --config-value)"
    )
    pitfalls = ("O10",)

    VALID = [
        Valid(
            {
                "orch/params.py": (
                    "def flow_parameters(flow):\n"
                    "    return {n: p for n, p in flow._get_parameters() if not p.IS_CONFIG_PARAMETER}\n"
                ),
                "orch/init.py": (
                    "from .params import flow_parameters\n\n"
                    "def init_options(flow, values):\n"
                    '    return ["--%s=%s" % (n, values[n]) for n in flow_parameters(flow)]\n'
                ),
            }
        )
    ]
    INVALID = [
        Invalid(
            {
                "orch/params.py": (
                    "def flow_parameters(flow):\n"
                    "    return {n: p for n, p in flow._get_parameters()}\n"
                ),
                "orch/init.py": (
                    "from .params import flow_parameters\n\n"
                    "def init_options(flow, values):\n"
                    '    return ["--%s=%s" % (n, values[n]) for n in flow_parameters(flow)]\n'
                ),
            },
            count=1,
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        files = [f for f in source_files(project) if "_get_parameters" in f.source]
        if not files:
            return []  # every collection starts with a call written in some module
        collectors: dict[str, set[str]] = {}  # per extension: functions returning unfiltered parameters
        attributes: dict[str, set[str]] = {}  # per extension: self.<attr> holding them
        for f in files:
            ext = extension_of(f.path)
            for func in _functions(f):
                body = walk(func.body, SCOPES)
                if not any(_is_get_parameters(n) for n in body) or _filters(body):
                    continue
                if any(type(n) in (cst.Return, cst.Yield) and n.value is not None for n in body):  # type: ignore[attr-defined]
                    collectors.setdefault(ext, set()).add(func.name.value)
                for n in body:
                    if type(n) is cst.Assign and _mentions_source(n.value, set(), set(), set()):  # type: ignore[attr-defined]
                        for t in n.targets:  # type: ignore[attr-defined]
                            if isinstance(t.target, cst.Attribute) and dotted(t.target.value) == "self":
                                attributes.setdefault(ext, set()).add(t.target.attr.value)
        self._calls: dict | None = None
        reports: list[Report] = []
        seen: set[int] = set()
        for f in source_files(project):
            ext = extension_of(f.path)
            mine, attrs = collectors.get(ext, set()), attributes.get(ext, set())
            if not any(w in f.source for w in (*mine, *attrs, "_get_parameters")):
                continue  # a use names the collector, the attribute or the call
            if "--" not in f.source and "METAFLOW_INIT_" not in f.source and not f.words.escaped:
                continue  # an option is spelled in the file
            for func in _functions(f):
                candidates = _option_loops(func)
                if not candidates:
                    continue
                fed = self._fed_parameters(project, func, mine, ext) if set(_parameters(func)) else set()
                for loop in self._emitting_loops(func, candidates, mine, attrs, fed):
                    if id(loop) not in seen:
                        seen.add(id(loop))
                        reports.append(Report(node=loop, message=self.message, path=f.path))
        return reports

    def _call_index(self, project: ProjectContext) -> dict:
        """name → [(caller, call)] over the project, built once."""
        if self._calls is None:
            self._calls = {}
            for f in source_files(project):
                for caller in _functions(f):
                    for call in walk(caller.body, SCOPES):
                        if type(call) is cst.Call:
                            name = call_name(call)  # type: ignore[arg-type]
                            if name:
                                self._calls.setdefault(name, []).append((extension_of(f.path), caller, call))
        return self._calls

    def _fed_parameters(self, project: ProjectContext, func: cst.FunctionDef, collectors: set[str], ext: str) -> set[str]:
        """Parameters of ``func`` that some caller in the extension feeds with collected parameters."""
        params = _parameters(func)
        method = bool(params) and params[0] in ("self", "cls")
        out: set[str] = set()
        for where, caller, call in self._call_index(project).get(func.name.value, []):
            if where != ext:
                continue
            local = _source_locals(caller, collectors, set())
            positional = [a for a in call.args if a.keyword is None and not a.star]
            shift = 1 if method and isinstance(call.func, cst.Attribute) else 0
            for i, a in enumerate(positional):
                if i + shift < len(params) and _mentions_source(a.value, collectors, set(), local):
                    out.add(params[i + shift])
            for a in call.args:
                if a.keyword is not None and _mentions_source(a.value, collectors, set(), local):
                    out.add(a.keyword.value)
        return out

    @staticmethod
    def _emitting_loops(
        func: cst.FunctionDef, candidates: list, collectors: set[str], attributes: set[str], fed: set[str]
    ) -> Iterator[cst.CSTNode]:
        local = _source_locals(func, collectors, attributes) | fed
        for loop, it in candidates:
            if _is_get_parameters(it):
                continue  # the loop over the call itself: MFX210
            if _mentions_source(it, collectors, attributes, local):
                yield loop


def _option_loops(func: cst.FunctionDef) -> list:
    """(loop, iterable) of the loops and comprehensions of ``func`` that build options without
    testing for configs (none when the function tests for configs anywhere)."""
    body = walk(func.body, SCOPES)
    loops = [n for n in body if type(n) in _LOOPS]
    if not loops or _filters(body):
        return []
    out = []
    for loop in loops:
        if type(loop) is cst.For:
            it, parts = loop.iter, [loop.body]  # type: ignore[attr-defined]
        else:
            comp = loop.for_in  # type: ignore[attr-defined]
            it = comp.iter
            parts = [loop.key, loop.value] if type(loop) is cst.DictComp else [loop.elt]  # type: ignore[attr-defined]
            parts += list(comp.ifs)
        nodes = [n for p in parts for n in walk(p)]
        if any(_optionish(n) for n in nodes) and not any(
            isinstance(n, cst.Name) and n.value == "IS_CONFIG_PARAMETER" for n in nodes
        ):
            out.append((loop, it))
    return out


def _functions(file: FileContext) -> list[cst.FunctionDef]:
    return [n for n in nodes_of(file) if type(n) is cst.FunctionDef]  # type: ignore[misc]


def _parameters(func: cst.FunctionDef) -> list[str]:
    p = func.params
    return [x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)]


def _is_get_parameters(n: cst.CSTNode) -> bool:
    return type(n) is cst.Call and isinstance(n.func, cst.Attribute) and n.func.attr.value == "_get_parameters"  # type: ignore[attr-defined]


def _filters(nodes: list) -> bool:
    """The code tests for configs: ``IS_CONFIG_PARAMETER``, or ``isinstance(x, Config)``."""
    for n in nodes:
        if type(n) is cst.Name and n.value == "IS_CONFIG_PARAMETER":  # type: ignore[attr-defined]
            return True
        if type(n) is cst.Attribute and n.attr.value == "IS_CONFIG_PARAMETER":  # type: ignore[attr-defined]
            return True
        if type(n) is cst.Call and call_name(n) == "isinstance" and len(n.args) == 2:  # type: ignore[arg-type,attr-defined]
            kinds = {(dotted(x) or "").rsplit(".", 1)[-1] for x in walk(n.args[1].value)}  # type: ignore[attr-defined]
            if "Config" in kinds:
                return True
    return False


def _mentions_source(
    expr: cst.CSTNode, collectors: set[str], attributes: set[str], local: set[str], direct: bool = True
) -> bool:
    for n in walk(expr):
        if _is_get_parameters(n):
            return True
        if type(n) is cst.Call and call_name(n) in collectors:  # type: ignore[arg-type]
            return True
        if type(n) is cst.Attribute and n.attr.value in attributes and dotted(n.value) == "self":  # type: ignore[attr-defined]
            return True
        if type(n) is cst.Name and n.value in local:  # type: ignore[attr-defined]
            return True
    return False


def _source_locals(func: cst.FunctionDef, collectors: set[str], attributes: set[str]) -> set[str]:
    """Locals of ``func`` assigned (transitively) from collected parameters."""
    out: set[str] = set()
    assigns = [n for n in walk(func.body, SCOPES) if type(n) in (cst.Assign, cst.AnnAssign)]
    for _ in range(3):
        for a in assigns:
            if a.value is None or not _mentions_source(a.value, collectors, attributes, out):  # type: ignore[attr-defined]
                continue
            targets = [t.target for t in a.targets] if type(a) is cst.Assign else [a.target]  # type: ignore[attr-defined]
            for t in targets:
                for n in walk(t):
                    if type(n) is cst.Name:
                        out.add(n.value)  # type: ignore[attr-defined]
    return out


def _optionish(n: cst.CSTNode) -> bool:
    if type(n) is cst.SimpleString:
        value = string_value(n)  # type: ignore[arg-type]
        return isinstance(value, str) and bool(_OPTIONISH.search(value))
    if type(n) is cst.FormattedStringText:
        return bool(_OPTIONISH.search(n.value))  # type: ignore[attr-defined]
    return False
