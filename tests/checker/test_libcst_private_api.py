"""Guard for the private libcst APIs mfx relies on (positions, tree index, batched dispatch).

checker/pyproject.toml bounds libcst from above because of them. Before raising the bound, run
this file against the new libcst: each test names the private API it exercises, so a libcst
release that renames or changes one fails here, loudly and by name, instead of as wrong
positions or a wrong visiting order somewhere in the rule suite.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

MFX = Path(__file__).resolve().parents[2] / "checker" / "src" / "mfx"

#: Every private libcst name mfx's source uses, and the test below that guards it.
GUARDED = {
    "libcst._nodes.internal": "test_codegen_state_protocol",  # CodegenState
    "libcst._position": "test_position_classes_are_the_public_ones",  # CodePosition, CodeRange
    "._codegen(": "test_codegen_calls_the_state_around_every_node",
    "._visit_and_replace_children(": "test_visit_and_replace_children_announces_fields_in_visit_order",
    "_is_no_op": "test_default_visitor_methods_are_marked_no_op",
    "libcst._nodes": "test_field_annotations_name_node_classes",
    "__post_init__": "test_parse_without_validation_builds_the_same_tree",  # mfx.engine.runner.parse_module
}

PRIVATE_USE = re.compile(r"libcst\._[\w.]+|\._codegen\(|\._visit_and_replace_children\(|_is_no_op|\"libcst\._nodes\"|\"__post_init__\"")

SAMPLE = textwrap.dedent(
    '''
    """Module docstring."""
    import os, sys as system
    from . import sibling  # comment

    @decorator(arg=1)
    @other
    async def f(a: int, /, b=2, *args, c: "str" = "x", **kw) -> None:
        """Doc."""
        x = [i async for i in g() if i]  # trailing
        y = {k: v for k, v in z.items()}
        w = lambda q, *r: (q, r)
        async with ctx() as (m, n):
            await thing
        try:
            pass
        except (ValueError, TypeError) as exc:
            raise RuntimeError(f"bad {exc!r:>10}") from exc
        finally:
            del x
        if (n := len(y)) > 1:
            return
        elif not w:
            yield from y
        else:
            global G
        match y:
            case {"a": 1, **rest} | [1, *_]:
                pass
            case Point(x=0) if rest:
                pass
        return a[1:2, ::3] @ b


    class C(Base, metaclass=Meta):
        attr: int = 1

        def method(self):
            """Doc."""
            s = "a" "b" f"{self!s}"
            t = b"x" if s else ...
            while True:
                for i in range(3):
                    continue
                else:
                    break
            return not -s ** 2
    '''
)


def test_every_private_use_is_guarded():
    """A new use of a private libcst API in mfx needs a guard here (and is listed in GUARDED)."""
    used = set()
    for path in MFX.rglob("*.py"):
        for match in PRIVATE_USE.finditer(path.read_text(encoding="utf-8")):
            used.add(match.group(0).strip('"'))
    assert used, "the scan found none: the pattern is broken"
    unguarded = sorted(u for u in used if not any(u == g or u.startswith(g) for g in GUARDED))
    assert not unguarded, f"private libcst APIs used by mfx without a guard in this file: {unguarded}"
    for test_name in set(GUARDED.values()):
        assert callable(globals().get(test_name)), test_name


def test_parse_without_validation_builds_the_same_tree():
    """mfx.engine.runner.parse_module swaps ``CSTNode.__post_init__`` (node validation) out while
    libcst's parser builds a tree: the hook must be CSTNode's own, inherited by every node class,
    called by the dataclass ``__init__``, and validation only; the trees must equal validated
    ones, and hand-built nodes must still be validated afterwards (also after a syntax error)."""
    from mfx.engine.runner import parse_module

    assert "__post_init__" in cst.CSTNode.__dict__
    for cls in _node_classes():
        assert cls.__post_init__ is cst.CSTNode.__post_init__, f"{cls.__name__} overrides __post_init__"
    assert "self._validate()" in inspect.getsource(cst.CSTNode.__post_init__)
    called = []
    real = cst.CSTNode.__post_init__
    cst.CSTNode.__post_init__ = lambda self: called.append(type(self))  # type: ignore[method-assign]
    try:
        cst.Name("x")
    finally:
        cst.CSTNode.__post_init__ = real  # type: ignore[method-assign]
    assert called == [cst.Name], "the dataclass __init__ no longer calls __post_init__"
    sources = [SAMPLE] + [p.read_text(encoding="utf-8") for p in sorted((MFX / "engine").glob("*.py"))]
    for source in sources:
        fast = parse_module(source)
        assert fast.deep_equals(cst.parse_module(source)) and fast.code == source
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def f(:\n")
    for bad in (lambda: cst.Name("not a name"), lambda: cst.Name("x", lpar=[cst.LeftParen()])):
        with pytest.raises(cst.CSTValidationError):
            bad()
    assert cst.CSTNode.__post_init__ is real


#: Node classes mfx tests with ``type(x) is ...`` instead of isinstance (mfx.analysis.names).
CONCRETE = (cst.Name, cst.Attribute, cst.Call, cst.Assign, cst.SimpleString, cst.FunctionDef, cst.ClassDef, cst.Lambda)


def test_concrete_node_classes_have_no_subclasses():
    """An exact type test is isinstance() only while libcst does not subclass the class."""
    for cls in CONCRETE:
        assert not cls.__subclasses__(), f"libcst subclasses {cls.__name__}: use isinstance for it"


def _node_classes() -> list[type]:
    found, todo = [], [cst.CSTNode]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_codegen_state_protocol():
    """mfx.engine.positions subclasses CodegenState and overrides its token and position hooks."""
    from libcst._nodes.internal import CodegenState

    assert dataclasses.is_dataclass(CodegenState)
    fields = {f.name for f in dataclasses.fields(CodegenState)}
    assert {"default_indent", "default_newline", "indent_tokens", "tokens"} <= fields
    for hook in ("add_indent_tokens", "add_token", "pop_trailing_newline", "before_codegen", "after_codegen",
                 "record_syntactic_position"):
        assert callable(getattr(CodegenState, hook, None)), f"CodegenState.{hook} is gone"
    params = inspect.signature(CodegenState.record_syntactic_position).parameters
    assert {"node", "start_node", "end_node"} <= set(params), params
    assert params["start_node"].kind is inspect.Parameter.KEYWORD_ONLY and params["end_node"].kind is inspect.Parameter.KEYWORD_ONLY
    state = CodegenState(default_indent="    ", default_newline="\n")
    assert state.tokens == [] and state.indent_tokens == []


def test_position_classes_are_the_public_ones():
    """Ranges mfx builds are compared with (and used as) PositionProvider's."""
    import libcst.metadata
    from libcst._position import CodePosition, CodeRange

    assert CodeRange is libcst.metadata.CodeRange and CodePosition is libcst.metadata.CodePosition
    r = CodeRange(CodePosition(1, 0), CodePosition(2, 3))
    assert (r.start.line, r.start.column, r.end.line, r.end.column) == (1, 0, 2, 3)


def _all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            found.append(node)
            return True

    module.visit(Collect())
    return found


def test_codegen_calls_the_state_around_every_node():
    """``node._codegen(state)`` generates the module's code through the state's hooks, with
    before/after_codegen around every node."""
    from libcst._nodes.internal import CodegenState

    module = cst.parse_module(SAMPLE)
    seen: list[int] = []

    @dataclasses.dataclass(frozen=False)
    class Recording(CodegenState):
        depth: int = 0

        def before_codegen(self, node: cst.CSTNode) -> None:
            seen.append(id(node))
            self.depth += 1

        def after_codegen(self, node: cst.CSTNode) -> None:
            self.depth -= 1

    state = Recording(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(state)
    assert "".join(state.tokens) == module.code == SAMPLE
    assert state.depth == 0
    assert set(seen) >= {id(n) for n in _all_nodes(module)}


def test_positions_equal_position_provider_on_the_sample():
    """What the private protocol above is used for: mfx's ranges equal PositionProvider's."""
    from mfx.engine.index import TreeIndex
    from mfx.engine.positions import locate_in_source, locate_nodes

    module = cst.parse_module(SAMPLE)
    idx = TreeIndex(module)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [n for n in idx.order if n in expected]
    assert len(nodes) > 200
    got = locate_nodes(module, nodes)
    assert all(got[id(n)] == expected[n] for n in nodes)
    got = locate_in_source(module, SAMPLE, nodes, idx.parent_of)
    assert all(got[id(n)] == expected[n] for n in nodes)


def test_visit_and_replace_children_announces_fields_in_visit_order():
    """mfx.engine.index learns each node type's field order from
    ``_visit_and_replace_children`` (through ``on_visit_attribute``); its pre-order of the code
    nodes must equal libcst's own traversal with formatting nodes left out."""
    from mfx.engine.index import FORMATTING_TYPES, TreeIndex, is_formatting_field, visit_order

    module = cst.parse_module(SAMPLE)
    announced: list[str] = []

    class Fields(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            return False

        def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
            announced.append(attribute)

    call = cst.parse_expression("f(a, b=1)")
    call._visit_and_replace_children(Fields())
    assert "func" in announced and "args" in announced and announced.index("func") < announced.index("args")
    assert visit_order(call) == ("func", "args")

    code_nodes: list[cst.CSTNode] = []

    class Code(cst.CSTVisitor):
        """libcst's own traversal, not entering the fields the index leaves out."""

        def __init__(self) -> None:
            super().__init__()
            self.fields: list[str] = []

        def on_visit(self, node: cst.CSTNode) -> bool:
            if self.fields and is_formatting_field(self.fields[-1]):
                return False
            code_nodes.append(node)
            return True

        def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
            self.fields.append(attribute)

        def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
            self.fields.pop()

    module.visit(Code())
    assert any(isinstance(n, FORMATTING_TYPES) for n in _all_nodes(module))
    index_order = TreeIndex(module).order
    assert [type(n).__name__ for n in index_order] == [type(n).__name__ for n in code_nodes]
    assert [id(n) for n in index_order] == [id(n) for n in code_nodes]


def test_field_annotations_name_node_classes():
    """mfx.engine.index decides from a field's annotation whether it may hold a node: it must be
    a string or name libcst's node classes (``libcst._nodes...``)."""
    from mfx.engine.index import _may_hold_node

    module = cst.parse_module(SAMPLE)
    checked = 0
    for node in _all_nodes(module):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            values = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(v, cst.CSTNode) for v in values):
                checked += 1
                assert _may_hold_node(field.type), f"{type(node).__name__}.{field.name}: {field.type!r}"
    assert checked > 100


def test_default_visitor_methods_are_marked_no_op():
    """The engine traverses a file for a rule only when the rule defines visit_/leave_ methods,
    telling them from libcst's defaults by the ``_is_no_op`` mark libcst puts on those."""
    from mfx.engine.runner import has_visitors
    from mfx.rule import Rule

    for base in (cst.CSTVisitor, cst.BatchableCSTVisitor):
        assert getattr(base.visit_Call, "_is_no_op", False) is True
        assert getattr(base.leave_Call, "_is_no_op", False) is True

    class OnlyCalls(Rule):
        def visit_Call(self, node: cst.Call) -> None:
            pass

    class OnlyCheck(Rule):
        def check(self, file):
            return ()

    assert has_visitors(OnlyCalls) and not has_visitors(OnlyCheck) and not has_visitors(Rule)


@pytest.mark.parametrize("source", ["x = 1\r\ny = (\r\n  2)\r\n", "if x:\n\tpass\n"])
def test_codegen_round_trips_other_newlines_and_indents(source):
    module = cst.parse_module(source)
    from libcst._nodes.internal import CodegenState

    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(state)
    assert "".join(state.tokens) == source
