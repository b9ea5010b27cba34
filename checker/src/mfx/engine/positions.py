"""Line/column ranges of the few nodes a file's findings point at, without PositionProvider.

libcst's ``PositionProvider`` regenerates the whole module and builds a ``CodeRange`` for every
node; on the benchmark corpus that cost about twice the parse. A run only needs the ranges of
the reported nodes. :func:`locate_nodes` runs the same code generation once, records character
offsets (not ranges) and only for the wanted nodes, then turns the offsets into lines and
columns with one scan of the generated text.

The ranges are the same as ``PositionProvider``'s (syntactic positions: a node's own leading
whitespace and comments excluded where libcst excludes them): the state below follows the same
protocol — ``before_codegen``/``after_codegen`` around every node, and
``record_syntactic_position`` overriding the whitespace-inclusive range, with ranges hoisted
from a start/end child when libcst asks for it. ``tests/checker/test_engine_index.py`` compares
both on real files.

Code generation stops as soon as every asked node has its range (:class:`_AllFound`): a
node's offsets depend only on the text generated before its end, so the rest of the module is
never generated (on average half of a file with findings).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange

_NEWLINE = re.compile(r"\r\n?|\n")


class _AllFound(Exception):
    """Raised inside the code generation once every asked node is located."""


@dataclasses.dataclass(frozen=False)
class _OffsetState(CodegenState):
    wanted: set = dataclasses.field(default_factory=set)
    asked: set = dataclasses.field(default_factory=set)
    found: dict = dataclasses.field(default_factory=dict)
    offset: int = 0
    stack: list = dataclasses.field(default_factory=list)
    remaining: set = dataclasses.field(default_factory=set)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        """Kept: the offsets above were counted with it (only the text scan reads tokens)."""

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        key = id(node)
        if key in self.wanted and key not in self.found:
            self.found[key] = (start, self.offset)
        if key in self.asked:
            # No asked node can still be open here: an open one encloses this node, and an
            # asked node is found only when its own generation ends.
            self.remaining.discard(key)
            if not self.remaining:
                raise _AllFound

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> Iterator[None]:
        interesting = id(node) in self.wanted
        if interesting:
            # The hoisted ranges are needed too; their code is generated inside this block.
            if start_node is not None:
                self.wanted.add(id(start_node))
            if end_node is not None:
                self.wanted.add(id(end_node))
        start = self.offset
        try:
            yield
        finally:
            if interesting:
                if start_node is not None:
                    start = self.found[id(start_node)][0]
                end = self.found[id(end_node)][1] if end_node is not None else self.offset
                self.found[id(node)] = (start, end)


def _line_starts(tokens: list[str]) -> list[int]:
    """Offsets where lines start, counting newlines token by token as libcst does (a ``\\r``
    ending one token and a ``\\n`` starting the next are two newlines to libcst)."""
    text = "".join(tokens)
    starts = [0]
    if "\r" not in text:
        starts.extend(m.end() for m in _NEWLINE.finditer(text))
        return starts
    offset = 0
    for token in tokens:
        starts.extend(offset + m.end() for m in _NEWLINE.finditer(token))
        offset += len(token)
    return starts


def locate_nodes(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, CodeRange]:
    """``{id(node): CodeRange}`` for ``nodes`` of ``module``; nodes not in the module are absent."""
    wanted = {id(n) for n in nodes}
    if not wanted:
        return {}
    asked = set(wanted)
    state = _OffsetState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        wanted=wanted,
        asked=asked,
        remaining=set(asked),
    )
    try:
        module._codegen(state)
    except _AllFound:
        pass
    starts = _line_starts(state.tokens)

    def position(offset: int) -> CodePosition:
        line = bisect.bisect_right(starts, offset)
        return CodePosition(line, offset - starts[line - 1])

    return {
        key: CodeRange(position(start), position(end))
        for key, (start, end) in state.found.items()
        if key in asked
    }
