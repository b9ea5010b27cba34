"""A flat index of a syntax tree: every code node once, in traversal order, with sub-tree ranges.

Walking a libcst tree with a visitor costs about as much as parsing it (libcst rebuilds every
node while it visits), and rules that search sub-trees (every call inside every function...)
used to pay that again and again. A :class:`TreeIndex` is built once per tree by reading the
nodes' fields directly; afterwards "every node under X" is a list slice, "every ``Call`` under X"
a binary search, and "skip nested functions" a jump to the end of the nested sub-tree.

The order is the one libcst's visitor enters the nodes in (decorators before the function name,
for example), learnt from libcst itself once per node type (see :func:`visit_order`), restricted
to the *code*: fields that only hold formatting (whitespace, comments, parentheses, commas,
colons... :data:`FORMATTING_FIELDS`) are not entered. Those make two thirds of a tree's nodes and
no analysis reads them; the engine's dispatcher falls back to libcst's own traversal for a rule
that visits one of their types (:data:`FORMATTING_TYPES`).

:func:`index_for` finds the index that contains a given node among the files of the current lint
(:func:`indexing`, opened by the runner; each index is owned by its file context and lives as
long as it), so helpers that receive only a sub-tree can still answer from the index of its
module. No index or analysis is kept process-wide.
"""

from __future__ import annotations

import bisect
import dataclasses
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import libcst as cst

N = TypeVar("N", bound=cst.CSTNode)
T = TypeVar("T")
Children = Callable[[cst.CSTNode], Sequence[cst.CSTNode]]

#: Fields that only hold formatting: whitespace, comments, parentheses and punctuation (plus
#: every field whose name starts with ``whitespace``). Never entered by the index.
FORMATTING_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "comma",
        "semicolon",
        "colon",
        "equal",
        "dot",
        "newline",
        "trailing_whitespace",
        "empty_lines",
        "first_line",
        "last_line",
    }
)

#: The node types those fields hold (a rule visiting one of them is dispatched by libcst's own
#: traversal; ``Dot`` also occurs in code, as the dots of a relative import).
FORMATTING_TYPES = (
    cst.BaseParenthesizableWhitespace,
    cst.Comment,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Newline,
    cst.Comma,
    cst.Colon,
    cst.Semicolon,
    cst.Dot,
    cst.AssignEqual,
    cst.LeftParen,
    cst.RightParen,
)


def is_formatting_field(name: str) -> bool:
    return name in FORMATTING_FIELDS or name.startswith("whitespace")


class _FieldRecorder(cst.CSTVisitor):
    """Records the field names libcst's visitor enters, without descending."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.fields.append(attribute)


_VISIT_ORDER: dict[object, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _recorded(node: cst.CSTNode) -> tuple[str, ...]:
    recorder = _FieldRecorder()
    node._visit_and_replace_children(recorder)
    return tuple(n for n in dict.fromkeys(recorder.fields) if hasattr(node, n) and not is_formatting_field(n))


def _may_hold_node(annotation: object) -> bool:
    """False for fields declared as plain values (``str``, ``bool``, ``Literal[...]``); anything
    naming a libcst node class, or not understood, may hold a node."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return isinstance(annotation, str) or "libcst._nodes" in text or "ForwardRef" in text


def _holds_node(value: object) -> bool:
    kind = type(value)
    if kind is list or kind is tuple:
        return any(is_node_type(type(v)) for v in value)  # type: ignore[attr-defined]
    return is_node_type(kind)


def visit_order(node: cst.CSTNode) -> tuple[str, ...]:
    """The code fields of ``node`` (not :data:`FORMATTING_FIELDS`) in the order libcst's visitor
    visits them.

    Asked of libcst once per node type: its ``_visit_and_replace_children`` announces each field
    through ``on_visit_attribute`` before visiting it. A few node types visit a field only when it
    is set (``FormattedStringExpression.format_spec``); for those, an instance that has such a
    field set is asked again (once per combination of set fields)."""
    cls = type(node)
    known = _VISIT_ORDER.get(cls)
    if known is None:
        names = _recorded(node)
        unannounced = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in names
            and not f.name.startswith("_")
            and not is_formatting_field(f.name)
            and _may_hold_node(f.type)
        )
        known = _VISIT_ORDER[cls] = (names, unannounced)
    names, unannounced = known
    if unannounced:
        present = tuple(f for f in unannounced if _holds_node(getattr(node, f)))
        if present:
            key = (cls, present)
            hit = _VISIT_ORDER.get(key)
            if hit is None:
                hit = _VISIT_ORDER[key] = (_recorded(node), ())
            names = hit[0]
    return names


def code_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Direct children in libcst's visiting order (what ``node.children`` returns, without
    rebuilding the node), except those in formatting fields."""
    out: list[cst.CSTNode] = []
    for name in visit_order(node):
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            out.extend(v for v in value if is_node_type(type(v)))
        elif is_node_type(kind):
            out.append(value)
    return out


_IS_NODE: dict[type, bool] = {}
_ISA: dict[tuple[type, object], bool] = {}


def isa(obj: object, kinds: type | tuple[type, ...]) -> bool:
    """``isinstance(obj, kinds)``, memoised per (type, kinds): exact for any class, and much
    cheaper than ``ABCMeta``'s check for libcst's abstract node classes in hot loops."""
    key = (type(obj), kinds)
    hit = _ISA.get(key)
    if hit is None:
        hit = _ISA[key] = isinstance(obj, kinds)
    return hit


_SUBCLASS: dict[tuple[type, object], bool] = {}


def _is_subclass(node_type: type, kinds: type | tuple[type, ...]) -> bool:
    """``issubclass``, memoised (libcst's abstract classes check through ``ABCMeta``)."""
    key = (node_type, kinds)
    hit = _SUBCLASS.get(key)
    if hit is None:
        hit = _SUBCLASS[key] = issubclass(node_type, kinds)
    return hit


def is_node_type(kind: type) -> bool:
    """``issubclass(kind, CSTNode)``, memoised: libcst's classes are ABCs, and ``isinstance``
    through ``ABCMeta`` dominated the walks before."""
    known = _IS_NODE.get(kind)
    if known is None:
        known = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return known


class TreeIndex:
    """Pre-order list of a tree's nodes with, for each, the position where its sub-tree ends."""

    def __init__(self, root: cst.CSTNode, children: Children | None = None) -> None:
        self.root = root
        order: list[cst.CSTNode] = []
        parents: list[int] = []
        pos: dict[int, int] = {}
        nodes: list[cst.CSTNode] = [root]  # work stack: nodes and their parents' positions
        owners: list[int] = [-1]
        default = children is None or children is code_children
        known_orders = _VISIT_ORDER
        is_node = _IS_NODE
        while nodes:
            node = nodes.pop()
            i = len(order)
            pos[id(node)] = i
            order.append(node)
            parents.append(owners.pop())
            if default:  # code_children, inlined: this loop runs for every node of every file
                known = known_orders.get(type(node))
                names = known[0] if known is not None and not known[1] else visit_order(node)
                if not names:
                    continue
                kids: list = []
                for name in names:
                    value = getattr(node, name)
                    kind = type(value)
                    if kind is tuple or kind is list:
                        for v in value:
                            flag = is_node.get(type(v))
                            if flag is None:
                                flag = is_node_type(type(v))
                            if flag:
                                kids.append(v)
                    else:
                        flag = is_node.get(kind)
                        if flag is None:
                            flag = is_node_type(kind)
                        if flag:
                            kids.append(value)
            else:
                kids = list(children(node))  # type: ignore[misc]
            if kids:
                kids.reverse()
                nodes.extend(kids)
                owners.extend([i] * len(kids))
        # Sub-tree sizes from the parent links, children before parents (reverse pre-order).
        n = len(order)
        size = [1] * n
        for j in range(n - 1, 0, -1):
            size[parents[j]] += size[j]
        self.order = order
        self.ends = [j + size[j] for j in range(n)]
        self._parents = parents
        self._pos = pos
        self._by_type: dict[type, list[int]] | None = None
        # Analyses of this tree's sub-trees (memo()): kept with the tree, so they live as long
        # as the file's index, never across files.
        self._memo: dict[str, dict[int, object]] = {}

    # -- lookups -------------------------------------------------------------------------------
    def position(self, node: cst.CSTNode) -> int | None:
        """Index of ``node`` in :attr:`order`, or None when it is not in this tree."""
        i = self._pos.get(id(node))
        if i is None or self.order[i] is not node:
            return None
        return i

    def __contains__(self, node: object) -> bool:
        return self.position(node) is not None  # type: ignore[arg-type]

    def by_type(self) -> dict[type, list[int]]:
        """``{node type: positions}`` (built on first use)."""
        if self._by_type is None:
            by_type: dict[type, list[int]] = {}
            for i, node in enumerate(self.order):
                by_type.setdefault(type(node), []).append(i)
            self._by_type = by_type
        return self._by_type

    def nodes(self, kind: type[N] | tuple[type, ...], within: cst.CSTNode | None = None) -> list[N]:
        """Nodes that are instances of ``kind`` (subclasses included), in traversal order; only
        those inside ``within`` (itself included) when given."""
        if within is None:
            lo, hi = 0, len(self.order)
        else:
            i = self.position(within)
            if i is None:
                return []
            lo, hi = i, self.ends[i]
        hits: list[int] = []
        for node_type, indices in self.by_type().items():
            if _is_subclass(node_type, kind):
                hits.extend(indices[bisect.bisect_left(indices, lo) : bisect.bisect_left(indices, hi)])
        hits.sort()
        order = self.order
        return [order[i] for i in hits]  # type: ignore[misc]

    def subtree(self, root: cst.CSTNode, skip: Callable[[cst.CSTNode], bool] | None = None) -> list[cst.CSTNode]:
        """``root`` and every node under it in traversal order; a node for which ``skip`` is
        true is included but its children are not (``root`` itself is always entered)."""
        i = self.position(root)
        if i is None:
            raise KeyError("node is not in this tree")
        end = self.ends[i]
        if skip is None:
            return self.order[i:end]
        order, ends = self.order, self.ends
        out = [root]
        j = i + 1
        while j < end:
            node = order[j]
            out.append(node)
            j = ends[j] if skip(node) else j + 1
        return out

    def subtree_pruning_types(self, root: cst.CSTNode, types: Iterable[type]) -> list[cst.CSTNode]:
        """:meth:`subtree` with ``skip = lambda n: type(n) in types``, without calling it per
        node: the nodes of those exact types under ``root`` come from :meth:`by_type`, and the
        result is the slices of the pre-order between their sub-trees."""
        i = self.position(root)
        if i is None:
            raise KeyError("node is not in this tree")
        end = self.ends[i]
        by_type = self.by_type()
        cuts: list[int] = []
        for kind in types:
            at = by_type.get(kind)
            if at:
                cuts.extend(at[bisect.bisect_right(at, i) : bisect.bisect_left(at, end)])
        order = self.order
        if not cuts:
            return order[i:end]
        cuts.sort()
        ends = self.ends
        out = [root]
        j = i + 1
        for cut in cuts:
            if cut < j:  # inside a sub-tree already left out
                continue
            out.extend(order[j : cut + 1])  # up to and including the pruned node itself
            j = ends[cut]
        out.extend(order[j:end])
        return out

    def parent_positions(self) -> list[int]:
        """For each position, its parent's position (-1 for the root)."""
        return self._parents

    def parent_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        i = self.position(node)
        if i is None:
            return None
        p = self._parents[i]
        return None if p < 0 else self.order[p]

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parent_of(node)
        while current is not None:
            yield current
            current = self.parent_of(current)


# -- per-tree analysis memo -------------------------------------------------------------------

def memo(kind: str, node: cst.CSTNode, build: Callable[[cst.CSTNode], T]) -> T:
    """``build(node)``, computed once per node and kept on the index of the file the node is in.

    For analyses of a sub-tree (a function's assignments, a body's own nodes) that several rules
    ask for: the result lives as long as the file's index (its analyses go with it), not in a
    process-wide cache. A node of no known index is analysed every time."""
    idx = index_for(node)
    if idx is None:
        return build(node)
    table = idx._memo.setdefault(kind, {})
    key = id(node)  # unique within the index, which keeps its nodes alive
    if key in table:
        return table[key]  # type: ignore[return-value]
    value = table[key] = build(node)
    return value


# -- finding the index of a sub-tree ----------------------------------------------------------

#: The files of the current lint (file rules: the file; project rules: every file of the project),
#: set by the runner with :func:`indexing`. Their indexes are owned by their file contexts
#: (:attr:`mfx.engine.context.FileContext.index`) and die with them: nothing here outlives a run.
_SCOPE: ContextVar[list | None] = ContextVar("mfx_index_scope", default=None)


@contextmanager
def indexing(owners: Iterable[object]) -> Iterator[None]:
    """Within the block, :func:`index_for` finds a node's index among ``owners``' (file contexts:
    objects with an ``index``, and ``built_index()``/``parsed_module()`` that build nothing)."""
    token = _SCOPE.set(list(owners))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def index_for(node: cst.CSTNode) -> TreeIndex | None:
    """The index of the file (of the current lint, see :func:`indexing`) that contains ``node``.

    A :class:`~libcst.Module` gets its owner's index (built on first use); a module of no file of
    the lint gets a fresh index that is not remembered. A sub-tree of no built index gives None
    (the caller walks it the slow way, in the same order: :func:`code_children`)."""
    owners = _SCOPE.get() or []
    for k, owner in enumerate(owners):
        idx = owner.built_index()
        if idx is not None and idx.position(node) is not None:
            if k:  # most recently used first: project rules revisit a file many times in a row
                owners.insert(0, owners.pop(k))
            return idx
    if type(node) is cst.Module:
        for owner in owners:
            if owner.parsed_module() is node:
                return owner.index
        return TreeIndex(node)
    return None


def walk_code(
    root: cst.CSTNode, prune: Callable[[cst.CSTNode], bool] | frozenset | tuple | set | None = None
) -> list[cst.CSTNode]:
    """``root`` and its code nodes in index order; nodes for which ``prune`` is true are
    included but not entered (``root`` always is). ``prune`` may also be a collection of node
    types (exact types, as ``type(n) in prune``): the index then answers without a call per node.
    From the index when ``root`` belongs to a module indexed in the current lint
    (:func:`indexing`), otherwise by reading the fields (the same list)."""
    idx = index_for(root)
    if prune is not None and not callable(prune):
        types = prune
        if idx is not None:
            return idx.subtree_pruning_types(root, types)
        prune = lambda n: type(n) in types  # noqa: E731
    if idx is not None:
        return idx.subtree(root, prune)
    out: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        if node is not root and prune is not None and prune(node):
            continue
        stack.extend(reversed(code_children(node)))
    return out
