"""MFX219: a graph compiler that never considers switch (``split-switch``) steps.

Not a command rule: it asks whether the node type ``"split-switch"`` is written in code anywhere
(a comparison, a dict key, an error message table), which says nothing about a task command, so
it reads the code strings of each file (:func:`mfx.analysis.orchestrator_command.code_strings`)
rather than the command model.
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.orchestrator_command import code_strings
from mfx.analysis.orchestrator_names import string_value, walk
from mfx.analysis.orchestrator_project import may_mention, source_files
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_NODE_TYPES = {"foreach", "split", "join", "linear"}


class SplitSwitchNotHandled(ProjectRule):
    """## What it does
    Flags a project with a module that dispatches on at least two Metaflow graph node types
    (``node.type == "foreach"``, ``"split"``, ``"join"``, ``"linear"``) when no module uses the
    string ``"split-switch"`` in code.

    ## Why is this bad?
    A switch step (``self.next({...}, condition=...)``) has the type ``split-switch``. A
    compiler that does not know it treats it as a static split or a linear step: both branches
    run, or the merge gets two inputs and fails (pitfall O25). Handle it (read the chosen branch
    from the task's ``_transition``) or reject it with a "not supported" error at deploy time.

    ## Example
    ```python
    if node.type == "foreach":
        ...
    elif node.type == "split":
        ...
    ```

    ## Use instead
    ```python
    if node.type == "split-switch":
        raise MyOrchException("Switch steps are not supported by my-orch.")
    if node.type == "foreach":
        ...
    ```
    """

    code = "MFX219"
    name = "split-switch-not-handled"
    message = (
        'this compiler dispatches on node types but never handles "split-switch": handle switch '
        'steps or reject them with a "not supported" error'
    )
    pitfalls = ("O25",)

    VALID = [
        Valid(
            {
                "orch/compiler.py": (
                    "def visit(node):\n"
                    '    if node.type == "split-switch":\n'
                    '        raise ValueError("switch steps are not supported")\n'
                    '    if node.type == "foreach":\n        return 1\n'
                )
            }
        ),
        Valid({"orch/other.py": 'def f(x):\n    return x.type == "error"\n'}, note="not graph node types"),
    ]
    INVALID = [
        Invalid(
            {
                "orch/compiler.py": (
                    "def visit(node):\n"
                    '    """Handles foreach and split (split-switch: TODO)."""\n'
                    '    if node.type == "foreach":\n        return 1\n'
                    '    elif node.type in ("split", "join"):\n        return 2\n'
                )
            },
            count=1,
        )
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        first: tuple[str, cst.CSTNode] | None = None
        for f in source_files(project):
            # A fragment equal to "split-switch" needs the word in the file's text (see
            # may_mention): other files are not collected.
            if may_mention(f, ("split-switch",)):
                strings = code_strings(f)
                if any(frag.text.strip() == "split-switch" for frag in strings.fragments):
                    return []
            # A compiler compares node types with at least two of the graph's kinds: string values
            # written in the file (may_mention), next to the word `type` (an attribute, a key, a
            # local named after it). Other files, such as big generated modules, are never parsed
            # for it.
            if first is None and may_mention(f, ("type",)) and sum(may_mention(f, (k,)) for k in _NODE_TYPES) >= 2:
                nodes = walk(f.module)
                locals_ = _type_locals(nodes)
                tables = _dict_names(nodes)
                hits = [
                    (n, kinds)
                    for n in nodes
                    if isinstance(n, (cst.Comparison, cst.Match, cst.Subscript, cst.Call))
                    for kinds in [self._kinds(n, locals_, tables)]
                    if kinds
                ]
                if len({k for _, kinds in hits for k in kinds}) >= 2:
                    first = (f.path, hits[0][0])
        if first is None:
            return []
        return [Report(node=first[1], message=self.message, path=first[0])]

    @classmethod
    def _kinds(cls, n: cst.CSTNode, locals_: set[str], tables: dict) -> set[str]:
        if isinstance(n, cst.Comparison):
            return cls._type_values(n, locals_)
        if isinstance(n, cst.Match):
            # match node.type: case "foreach": ... case "split" | "join": ...
            if not _is_type_expr(n.subject, locals_):
                return set()
            return {v for case in n.cases for v in _pattern_values(case.pattern) if v in _NODE_TYPES}
        # A dispatch table indexed by the node type: {"foreach": f, "split": g}[node.type] or
        # HANDLERS.get(kind) with HANDLERS a dict of node kinds in the module.
        table: cst.BaseExpression | None = None
        if isinstance(n, cst.Subscript) and len(n.slice) == 1 and isinstance(n.slice[0].slice, cst.Index):
            if _is_type_expr(n.slice[0].slice.value, locals_):
                table = n.value
        elif (
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value == "get"
            and n.args
            and _is_type_expr(n.args[0].value, locals_)
        ):
            table = n.func.value
        if isinstance(table, cst.Name):
            return tables.get(table.value, set())
        if isinstance(table, cst.Dict):
            return _dict_kinds(table)
        return set()

    @staticmethod
    def _type_values(comp: cst.Comparison, locals_: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
        """Graph node kinds compared with a node type in this comparison."""
        sides = [comp.left] + [c.comparator for c in comp.comparisons]
        if not any(_is_type_expr(s, locals_) for s in sides):
            return set()
        out: set[str] = set()
        for s in sides:
            values = [string_value(s)]
            if isinstance(s, (cst.Tuple, cst.List, cst.Set)):
                values = [string_value(e.value) for e in s.elements]
            out.update(v for v in values if v in _NODE_TYPES)
        return out


def _is_type_expr(e: cst.BaseExpression, locals_: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
    """``x.type``, ``x["type"]``, ``x.get("type")``, or a local assigned from one of them."""
    if isinstance(e, cst.Attribute):
        return e.attr.value in ("type", "node_type")
    if isinstance(e, cst.Subscript) and len(e.slice) == 1 and isinstance(e.slice[0].slice, cst.Index):
        return string_value(e.slice[0].slice.value) in ("type", "node_type")
    if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute) and e.func.attr.value == "get" and e.args:
        return string_value(e.args[0].value) in ("type", "node_type")
    if isinstance(e, cst.Name):
        return e.value in locals_
    return False


def _type_locals(nodes: list) -> set[str]:
    """Names bound to a node type anywhere in the module (``kind = node["type"]``)."""
    out: set[str] = set()
    for n in nodes:
        if isinstance(n, cst.Assign) and _is_type_expr(n.value):
            out.update(t.target.value for t in n.targets if isinstance(t.target, cst.Name))
        elif isinstance(n, (cst.AnnAssign, cst.NamedExpr)) and n.value is not None and _is_type_expr(n.value):
            if isinstance(n.target, cst.Name):
                out.add(n.target.value)
    return out


def _dict_names(nodes: list) -> dict:
    """Names bound to a dict display keyed by node kinds (``HANDLERS = {"foreach": ...}``)."""
    out: dict = {}
    for n in nodes:
        if isinstance(n, (cst.Assign, cst.AnnAssign)) and isinstance(n.value, cst.Dict):
            kinds = _dict_kinds(n.value)
            targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target]
            for t in targets:
                if isinstance(t, cst.Name) and kinds:
                    out[t.value] = kinds
    return out


def _pattern_values(p: cst.MatchPattern) -> list:
    if isinstance(p, cst.MatchValue):
        return [string_value(p.value)]
    if isinstance(p, cst.MatchOr):
        return [v for e in p.patterns for v in _pattern_values(e.pattern)]
    if isinstance(p, cst.MatchAs) and p.pattern is not None:
        return _pattern_values(p.pattern)
    return []


def _dict_kinds(d: cst.Dict) -> set[str]:
    return {
        v
        for e in d.elements
        if isinstance(e, cst.DictElement)
        for v in [string_value(e.key)]
        if v in _NODE_TYPES
    }
