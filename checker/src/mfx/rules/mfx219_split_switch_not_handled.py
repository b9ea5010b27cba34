"""MFX219: a graph compiler that never considers switch (``split-switch``) steps."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.orchestrator_names import string_value, walk
from mfx.analysis.orchestrator_project import may_mention, source_files, strings_of
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

    def check(self) -> Iterable[Report]:
        first: tuple[str, cst.CSTNode] | None = None
        for f in source_files(self.context):
            # A fragment equal to "split-switch" needs the word in the file's text (see
            # may_mention): other files are not collected.
            if may_mention(f, ("split-switch",)):
                strings = strings_of(f.module)
                if any(frag.text.strip() == "split-switch" for frag in strings.fragments):
                    return []
            # A compiler compares node types with at least two of the graph's kinds: string values
            # written in the file (may_mention), next to the attribute `type`. Other files, such
            # as big generated modules, are never parsed for it.
            if first is None and may_mention(f, ("type",)) and sum(may_mention(f, (k,)) for k in _NODE_TYPES) >= 2:
                hits = [
                    (n, kinds)
                    for n in walk(f.module)
                    if isinstance(n, cst.Comparison)
                    for kinds in [self._type_values(n)]
                    if kinds
                ]
                if len({k for _, kinds in hits for k in kinds}) >= 2:
                    first = (f.path, hits[0][0])
        if first is None:
            return []
        return [Report(node=first[1], message=self.message, path=first[0])]

    @staticmethod
    def _type_values(comp: cst.Comparison) -> set[str]:
        """Graph node kinds compared with a ``.type`` attribute in this comparison."""
        sides = [comp.left] + [c.comparator for c in comp.comparisons]
        if not any(isinstance(s, cst.Attribute) and s.attr.value == "type" for s in sides):
            return set()
        out: set[str] = set()
        for s in sides:
            values = [string_value(s)]
            if isinstance(s, (cst.Tuple, cst.List, cst.Set)):
                values = [string_value(e.value) for e in s.elements]
            out.update(v for v in values if v in _NODE_TYPES)
        return out
