"""The fast paths of the engine answer exactly what libcst's own machinery answers.

The cold-run speed-ups (``docs/lint/performance.md``) replace libcst's visitor, its
``PositionProvider`` and the analyses' sub-tree walks with a flat per-file index. Rules must not
see any difference, so each replacement is compared here with the libcst original on tricky
snippets and on real Metaflow modules.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import metaflow
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider
from mfx.analysis import backend_names, orchestrator_names
from mfx.engine.index import TreeIndex, index_for, isa, libcst_children
from mfx.engine.positions import locate_nodes
from mfx.engine.runner import ParsedFile, _Batched, _dispatch

TRICKY = textwrap.dedent(
    '''
    """Module docstring."""
    import os  # noqa
    from . import sibling

    @decorator(arg=1)
    @other
    async def f(a: int = 1, *args, b, **kw) -> "X":
        x = f"{a!r:>{width}} {b=}" + 'y' 'z'
        y = [i for i in range(3) if i] or {k: v for k, v in kw.items()}
        with open(a) as fh, ctx():
            pass
        try:
            del x[1:2, ::3]
        except (ValueError, TypeError) as exc:
            raise RuntimeError("no") from exc
        finally:
            lambda q=(1, 2): q
        return (await g(*args, **kw))

    class C(Base, metaclass=Meta):
        attr: int = 1
        def m(self):
            global G
            match self:
                case {"a": 1, **rest} | [1, *_]:
                    return rest
                case C(attr=2) if self:
                    return None
    '''
)

CRLF = 'x = 1\r\ny = """a\r\nb"""\r\nif x:\r\n    z = (y +\r\n  1)  # c\r\n'


def _real_sources() -> list[str]:
    base = Path(metaflow.__file__).parent
    paths = [base / "plugins" / "argo" / "argo_workflows_deployer_objects.py", base / "runner" / "deployer.py"]
    return [p.read_text() for p in paths if p.exists()]


SOURCES = [TRICKY, CRLF, *_real_sources()]


class _Recorder(cst.CSTVisitor):
    def __init__(self, prune: tuple = ()) -> None:
        super().__init__()
        self.events: list[tuple[str, int]] = []
        self.prune = prune

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        return type(node) not in self.prune

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", id(original_node)))


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_index_order_is_libcst_visit_order(source):
    module = cst.parse_module(source)
    rec = _Recorder()
    module.visit(rec)
    visited = [key for what, key in rec.events if what == "visit"]
    assert [id(n) for n in TreeIndex(module).order] == visited


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_replay_matches_a_libcst_visitor_with_pruning(source):
    module = cst.parse_module(source)
    prune = (cst.SimpleString, cst.FunctionDef)
    expected = _Recorder(prune)
    module.visit(expected)
    got = _Recorder(prune)
    TreeIndex(module).replay(got.on_visit, got.on_leave)
    assert got.events == expected.events


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_replay_toward_targets_keeps_their_paths_and_order(source):
    """``replay(..., toward=positions)``: the full replay's events restricted to the targets,
    their ancestors and the ancestors' children (what the command-string collector relies on:
    it reads fragments and the parents of nodes on those paths only)."""
    module = cst.parse_module(source)
    idx = TreeIndex(module)
    targets = sorted(i for kind in (cst.SimpleString, cst.FormattedString) for i in idx.by_type().get(kind, ()))
    assert targets
    full = _Recorder()
    idx.replay(full.on_visit, full.on_leave)
    part = _Recorder()
    idx.replay(part.on_visit, part.on_leave, None, targets)
    entered: set[int] = set()  # the strict ancestors of a target: their children are visited
    for i in targets:
        entered.update(id(a) for a in idx.ancestors(idx.order[i]))
    keep = set(entered) | {id(idx.order[i]) for i in targets}
    for node in idx.order:
        parent = idx.parent_of(node)
        if parent is not None and id(parent) in entered:
            keep.add(id(node))
    assert part.events == [e for e in full.events if e[1] in keep]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_sub_tree_walks_match_the_slow_walks(source):
    module = cst.parse_module(source)
    idx = index_for(module)
    fast_back = index_for(module, backend_names.child_nodes)
    for func in idx.nodes(cst.FunctionDef):
        slow = orchestrator_names._Collector(func.body, orchestrator_names.SCOPES)
        func.body.visit(slow)
        assert orchestrator_names.walk(func.body, orchestrator_names.SCOPES) == slow.nodes
        # the compute-backend walk: dataclass field order, whitespace fields skipped
        stack, expected = [func], []
        while stack:
            node = stack.pop()
            expected.append(node)
            stack.extend(reversed(backend_names.child_nodes(node)))
        assert fast_back.subtree(func) == expected


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_positions_match_position_provider(source):
    module = cst.parse_module(source)
    nodes = TreeIndex(module).order
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    got = locate_nodes(module, nodes)
    assert all(got[id(n)] == expected[n] for n in nodes if n in expected)
    # a few nodes at a time (what a run asks for) give the same ranges
    few = nodes[::37]
    assert all(locate_nodes(module, few)[id(n)] == expected[n] for n in few if n in expected)
    # the code generation stops once the asked nodes are located: early nodes alone
    early = [n for n in nodes[: max(1, len(nodes) // 3)] if n in expected][-3:]
    assert early and all(locate_nodes(module, early)[id(n)] == expected[n] for n in early)


def test_range_of_a_foreign_node_is_the_usual_error():
    pf = ParsedFile("m.py", "x = 1\n")
    with pytest.raises(KeyError):
        pf.range_of(cst.Name("elsewhere"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_dispatch_calls_rule_methods_like_the_libcst_traversal(source):
    module = cst.parse_module(source)

    def recorder():
        calls: list[tuple[str, int]] = []

        def method(name):
            return lambda node: calls.append((name, id(node)))

        names = ["visit_Module", "visit_FunctionDef", "leave_FunctionDef", "visit_Call", "leave_Call",
                 "visit_ClassDef", "leave_ClassDef", "visit_Decorator", "visit_Name", "leave_If"]
        return calls, {n: [method(n), method(n + "#2")] for n in names}

    expected, methods = recorder()
    module.visit(_Batched(methods))
    got, methods = recorder()
    _dispatch(module, methods)
    assert got == expected


def test_isa_is_isinstance():
    module = cst.parse_module(TRICKY)
    kinds = (cst.BaseExpression, cst.Call, (cst.Name, cst.Attribute), cst.BaseSmallStatement, cst.CSTNode)
    for node in TreeIndex(module).order:
        for kind in kinds:
            assert isa(node, kind) == isinstance(node, kind)


def test_children_match_libcst_children():
    module = cst.parse_module(TRICKY)
    for node in TreeIndex(module).order:
        assert libcst_children(node) == list(node.children)
