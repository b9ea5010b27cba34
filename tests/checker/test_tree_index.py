"""The per-file tree index answers the same as walking the tree."""

from __future__ import annotations

import textwrap

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider
from mfx.engine.context import FileContext

SOURCE = textwrap.dedent(
    """
    import os

    def f(a):
        print(os.environ.get("X"), len(a))
        def g():
            return h(1)
        return g

    class C:
        def m(self):
            return f(self)
    """
)


def _walk(root: cst.CSTNode, kind) -> list:
    found = []

    class Finder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, kind):
                found.append(node)
            return True

    root.visit(Finder())
    return found


def test_nodes_match_a_visitor_walk():
    module = cst.parse_module(SOURCE)
    ctx = FileContext(path="m.py", source=SOURCE, module=module)
    for kind in (cst.Call, cst.Name, cst.FunctionDef, cst.BaseExpression, (cst.Call, cst.Attribute)):
        assert ctx.nodes(kind) == _walk(module, kind)
        for func in ctx.nodes(cst.FunctionDef):
            assert ctx.nodes(kind, within=func) == _walk(func, kind)
    assert ctx.nodes(cst.Call, within=cst.Name("not_in_tree")) == []


def test_parents_match_libcst():
    module = cst.parse_module(SOURCE)
    ctx = FileContext(path="m.py", source=SOURCE, module=module)
    parents = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider)
    for node in ctx.nodes(cst.CSTNode):
        if node is not module:
            assert ctx.parent_of(node) is parents[node]
    assert ctx.parent_of(module) is None
