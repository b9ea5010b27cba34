"""A per-file index of the syntax tree: nodes by type, sub-tree ranges, parents.

Walking a libcst tree with a visitor costs about as much as parsing it. Rules that search
sub-trees (``node.visit(Finder())`` for every function, every class...) multiply that cost. The
index is built once per file, on first use, by a plain walk over the dataclass fields (about
twice as fast as a visitor), and then answers "all ``Call`` nodes inside this function" with a
binary search instead of a walk.

Use it through the file's context: ``self.context.nodes(cst.Call, within=func)``,
``self.context.parent_of(node)``.
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import Iterator, TypeVar

import libcst as cst

N = TypeVar("N", bound=cst.CSTNode)

_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(kind))
        _FIELDS[kind] = names
    return names


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for name in _field_names(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, cst.CSTNode))
    return out


class TreeIndex:
    def __init__(self, root: cst.CSTNode) -> None:
        self.order: list[cst.CSTNode] = []
        self._start: dict[int, int] = {}
        self._end: dict[int, int] = {}
        self._parent: dict[int, cst.CSTNode] = {}
        self._by_type: dict[type, list[int]] = {}
        stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
        order, start, end, parent, by_type = self.order, self._start, self._end, self._parent, self._by_type
        while stack:
            node, leaving = stack.pop()
            if leaving:
                end[id(node)] = len(order)
                continue
            idx = len(order)
            start[id(node)] = idx
            order.append(node)
            by_type.setdefault(type(node), []).append(idx)
            stack.append((node, True))
            kids = _children(node)
            for kid in kids:
                parent[id(kid)] = node
            stack.extend((kid, False) for kid in reversed(kids))

    def nodes(self, kind: type[N] | tuple[type, ...], within: cst.CSTNode | None = None) -> list[N]:
        """Nodes that are instances of ``kind`` (subclasses included), in tree order; only
        those inside ``within`` (itself included) when given."""
        if within is None:
            lo, hi = 0, len(self.order)
        else:
            key = id(within)
            if key not in self._start:
                return []
            lo, hi = self._start[key], self._end[key]
        hits: list[int] = []
        for node_type, indices in self._by_type.items():
            if issubclass(node_type, kind):
                hits.extend(indices[bisect.bisect_left(indices, lo) : bisect.bisect_left(indices, hi)])
        hits.sort()
        return [self.order[i] for i in hits]  # type: ignore[misc]

    def parent_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._parent.get(id(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parent_of(node)
        while current is not None:
            yield current
            current = self.parent_of(current)
