"""The fast paths of the engine answer exactly what libcst's own machinery answers.

The cold-run speed-ups (``docs/lint/performance.md``) replace libcst's visitor, its
``PositionProvider`` and the analyses' sub-tree walks with a flat per-file index of the code
nodes (formatting fields left out). Rules must not see any difference, so each replacement is
compared here with the libcst original, restricted to the code, on tricky snippets and on real
Metaflow modules.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import metaflow
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider
from mfx.analysis import backend_names, orchestrator_names
from mfx.engine.context import FileContext
from mfx.engine.index import (
    FORMATTING_TYPES,
    TreeIndex,
    code_children,
    index_for,
    indexing,
    is_formatting_field,
    isa,
    walk_code,
)
from mfx.engine.positions import locate_in_source, locate_nodes
from mfx.engine.runner import ParsedFile

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
    """libcst's own traversal, with the nodes inside formatting fields left out (``muted``)."""

    def __init__(self, prune: tuple = ()) -> None:
        super().__init__()
        self.events: list[tuple[str, int]] = []
        self.prune = prune
        self.muted = 0
        self.formatting: list[cst.CSTNode] = []  # every node reached through a formatting field

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.muted += is_formatting_field(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        self.muted -= is_formatting_field(attribute)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.muted:
            self.formatting.append(node)
            return True
        self.events.append(("visit", id(node)))
        return type(node) not in self.prune

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if not self.muted:
            self.events.append(("leave", id(original_node)))


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_index_order_is_libcst_visit_order_of_the_code(source):
    module = cst.parse_module(source)
    rec = _Recorder()
    module.visit(rec)
    visited = [key for what, key in rec.events if what == "visit"]
    assert [id(n) for n in TreeIndex(module).order] == visited
    assert len(rec.formatting) > len(visited) / 2  # what the index saves: most nodes are formatting


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_formatting_types_cover_every_formatting_node(source):
    """The dispatcher falls back to libcst's traversal for rules visiting FORMATTING_TYPES:
    every node the index leaves out must be of one of them."""
    rec = _Recorder()
    cst.parse_module(source).visit(rec)
    assert rec.formatting
    assert {type(n).__name__ for n in rec.formatting if not isinstance(n, FORMATTING_TYPES)} == set()


EXAMPLE_MODULES = sorted((Path(__file__).resolve().parents[2] / "examples").rglob("*.py"))


def _strings_seen(strings, module):
    """What the command rules read from ``Strings``: fragments, their functions, the parents of a
    fragment and of its element, and the lists/tuples with a fragment among their elements
    (MFX204; libcst's traversal records every other node's parent too, which nothing reads)."""
    def up(node):
        return strings.parent(node) if node is not None else None

    fragments = {id(f.node) for f in strings.fragments}
    return (
        [(id(f.node), f.text, f.raw, id(f.function), [id(x) for x in f.fields]) for f in strings.fragments],
        [(id(up(f.node)), id(up(up(f.node)))) for f in strings.fragments],
        {id(n) for n in strings.parents.values()
         if isinstance(n, (cst.List, cst.Tuple)) and any(id(e.value) in fragments for e in n.elements)},
    )


@pytest.mark.parametrize("path", [None, *EXAMPLE_MODULES[::7]], ids=lambda p: "sources" if p is None else p.name)
def test_indexed_string_collection_equals_the_libcst_visitor(path):
    """``Strings`` reads each literal's ancestors from the module's index; libcst's own traversal
    with the visitor is the reference (what it records must be the same, node for node)."""
    from mfx.analysis.orchestrator_command import Strings, _StringVisitor

    sources = SOURCES if path is None else [path.read_text()]
    for source in sources:
        module = cst.parse_module(source)
        assert index_for(module) is not None
        indexed = Strings(module)
        reference = Strings.__new__(Strings)
        reference.module, reference.fragments, reference.parents, reference._index = module, [], {}, None
        module.visit(_StringVisitor(reference))
        assert _strings_seen(indexed, module) == _strings_seen(reference, module)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_sub_tree_walks_match_the_slow_walks(source):
    module = cst.parse_module(source)
    # sub-trees: every function body and every top-level statement
    roots = [n.body for n in TreeIndex(module).order if type(n) is cst.FunctionDef] + list(module.body)
    # before the module is indexed: the walks read the fields themselves
    unindexed = [walk_code(r, lambda n: type(n) in orchestrator_names.SCOPES) for r in roots]
    file = FileContext("m.py", source, module)
    with indexing([file]):  # as the runner does: the file's own index answers for its sub-trees
        idx = file.index
        assert index_for(roots[0]) is idx if roots else True
        for root, slow_walk in zip(roots, unindexed):
            slow = _Recorder(orchestrator_names.SCOPES)
            root.visit(slow)
            expected = [key for what, key in slow.events if what == "visit"]
            if type(root) in orchestrator_names.SCOPES:  # the root itself is always entered
                continue
            assert [id(n) for n in orchestrator_names.walk(root, orchestrator_names.SCOPES)] == expected
            assert [id(n) for n in slow_walk] == expected
            assert list(backend_names.walk(root)) == idx.subtree(root)


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


@pytest.mark.parametrize("source", [*SOURCES, "x = 1\ry = 2\r\nif x:\r    z = 3\n"], ids=lambda s: s[:20])
def test_positions_from_the_anchor_statement_match_position_provider(source):
    """Generating only the statement around a node, found in the source text, gives the same
    ranges: for every node at once, each node alone, and nodes inside decorated and nested
    definitions (TRICKY, the real modules)."""
    module = cst.parse_module(source)
    idx = TreeIndex(module)
    nodes = idx.order
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    got = locate_in_source(module, source, nodes, idx.parent_of)
    assert all(got[id(n)] == expected[n] for n in nodes if n in expected)
    for n in nodes[::11]:
        if n in expected:
            assert locate_in_source(module, source, [n], idx.parent_of) == {id(n): expected[n]}


def test_positions_of_repeated_statements_are_not_confused():
    """Two identical statements: the text of each occurs twice, so the search cannot tell them
    apart and the whole-module generation answers (never the first occurrence for both)."""
    source = "def f():\n    return x == 'start'\n\n\ndef g():\n    return x == 'start'\n"
    module = cst.parse_module(source)
    idx = TreeIndex(module)
    comparisons = idx.nodes(cst.Comparison)
    got = locate_in_source(module, source, comparisons, idx.parent_of)
    assert [got[id(c)].start.line for c in comparisons] == [2, 6]


def test_range_of_a_foreign_node_is_the_usual_error():
    pf = ParsedFile("m.py", "x = 1\n")
    with pytest.raises(KeyError):
        pf.range_of(cst.Name("elsewhere"))


def test_isa_is_isinstance():
    module = cst.parse_module(TRICKY)
    kinds = (cst.BaseExpression, cst.Call, (cst.Name, cst.Attribute), cst.BaseSmallStatement, cst.CSTNode)
    for node in TreeIndex(module).order:
        for kind in kinds:
            assert isa(node, kind) == isinstance(node, kind)


def test_children_are_libcst_children_without_formatting():
    module = cst.parse_module(TRICKY)
    for node in TreeIndex(module).order:
        formatting: set[int] = set()
        for field in node.__dataclass_fields__:
            if is_formatting_field(field):
                value = getattr(node, field)
                formatting.update(id(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
        assert code_children(node) == [c for c in node.children if id(c) not in formatting]


@pytest.mark.parametrize(
    "literal",
    ["''", '""', "'abc'", '"a b"', "'''x'''", '"""multi\nline"""', "''''''", "r'\\d+'", 'R"\\n"', "u'x'",
     "'\\n'", "'tab\\there'", 'b"bytes"', "rb'x'", "'\\''", "r'\\''", "'''a'b'''", '"""a""b"""', "'\\\\'",
     "'caf\\u00e9'", "'x\\\ny'", "f'no'"][:-1],
)
def test_literal_value_is_libcst_evaluated_value(literal):
    from mfx.analysis.names import literal_value

    (node,) = [n for n in TreeIndex(cst.parse_module(f"x = {literal}\n")).order if type(n) is cst.SimpleString]
    assert literal_value(node) == node.evaluated_value


def test_memo_keeps_an_analysis_per_node_with_its_files_index():
    from mfx.engine.index import index_for, memo

    source = "def f():\n    a = 1\n\ndef g():\n    a = 2\n"
    first, second = cst.parse_module(source), cst.parse_module(source)
    files = [FileContext("a.py", source, first), FileContext("b.py", source, second)]
    scope = indexing(files)  # both files of the lint, as the runner opens it
    scope.__enter__()
    files[0].index, files[1].index
    calls = []

    def build(node):
        calls.append(node)
        return [node.name.value]

    f1, g1 = first.body[0], first.body[1]
    assert memo("names", f1, build) == ["f"] and memo("names", f1, build) == ["f"]
    assert memo("names", g1, build) == ["g"]
    assert calls == [f1, g1]  # once per node
    f2 = second.body[0]  # the equal function of another file has its own entry
    assert memo("names", f2, build) == ["f"] and calls[-1] is f2
    assert memo("other", f1, lambda n: 42) == 42  # kinds are separate
    loose = cst.parse_statement("def h():\n    pass\n")  # in no index: analysed every time
    memo("names", loose, build), memo("names", loose, build)
    assert calls[-2:] == [loose, loose]
    scope.__exit__(None, None, None)
    # outside the lint, nothing is remembered: the files' indexes are owned by their contexts only
    assert index_for(f1) is None
    memo("names", f1, build)
    assert calls[-1] is f1


def test_no_index_outlives_its_file():
    """An index is owned by its file context: once the lint and the context are gone, it is
    freed (no process-wide list keeps trees alive)."""
    import gc
    import weakref

    from mfx.engine.index import memo

    source = "def f():\n    return 1\n"
    file = FileContext("a.py", source, cst.parse_module(source))
    with indexing([file]):
        idx = file.index
        memo("k", file.module.body[0], lambda n: object())
        assert index_for(file.module.body[0]) is idx
    ref = weakref.ref(idx)
    del file, idx
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s[:20])
def test_pruning_by_types_equals_pruning_by_predicate(source):
    """walk_code(root, types) (slices between the pruned sub-trees, from the index) is the
    node-by-node walk with ``type(n) in types``: for every node as root (pruned types
    included, which are entered), nested pruned nodes, and types absent from the tree."""
    module = cst.parse_module(source)
    file = FileContext("m.py", source, module)
    type_sets = [
        frozenset(orchestrator_names.SCOPES),
        frozenset({cst.FunctionDef}),
        frozenset({cst.Call, cst.Attribute, cst.Name}),
        frozenset({cst.MatchAs, cst.Await}),
        frozenset(),
    ]
    with indexing([file]):
        idx = file.index
        for root in idx.order:
            for types in type_sets:
                expected = idx.subtree(root, lambda n, t=types: type(n) in t)
                assert idx.subtree_pruning_types(root, types) == expected
                assert walk_code(root, types) == expected
                assert walk_code(root, tuple(types)) == expected
    scopes = frozenset(orchestrator_names.SCOPES)
    for root in module.body:  # no index: the same walk, reading the fields
        assert walk_code(root, scopes) == walk_code(root, lambda n: type(n) in scopes)
