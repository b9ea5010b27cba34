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
never generated.

It does not start at the top of the module either, when the source text is at hand
(:func:`locate_in_source`): a node's *anchor* is the innermost statement that contains it and
sits directly in the module or in the body of a ``def``/``class`` on the way to it (a method, a
function, a top-level statement). Only the anchor's code is generated, with the indentation of
the blocks around it, which is the source text of the anchor: where that text occurs exactly
once in the source, the anchor starts there, and so do the offsets of the nodes in it. The
generation stops at the last asked node when the text up to there is already unique (the usual
case: it starts with the anchor's first line); when even the whole anchor's text occurs more
than once (two identical one-line methods) or not at all (a carriage return that libcst counts
differently), the whole-module generation answers.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange

_NEWLINE = re.compile(r"\r\n?|\n")
_LONE_CR = re.compile(r"\r(?!\n)")


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
    stop: bool = True  # stop (raise _AllFound) once every asked node is located

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
            if self.stop and not self.remaining:
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


def _generate(
    node: cst.CSTNode, module: cst.Module, asked: set, indents: tuple = (), stop: bool = True
) -> _OffsetState:
    """Generate ``node``'s code (inside blocks indented by ``indents``), recording the offsets of
    the ``asked`` nodes; with ``stop``, only up to the end of the last of them."""
    state = _OffsetState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        wanted=set(asked),
        asked=asked,
        remaining=set(asked),
        stop=stop,
    )
    state.indent_tokens.extend(indents)
    try:
        node._codegen(state)
    except _AllFound:
        pass
    return state


def _ranges(found: dict, asked: set, starts: list[int], base: int = 0) -> dict[int, CodeRange]:
    """The asked offsets (shifted by ``base``) as ranges, given the offsets where lines start."""

    def position(offset: int) -> CodePosition:
        line = bisect.bisect_right(starts, offset)
        return CodePosition(line, offset - starts[line - 1])

    return {
        key: CodeRange(position(base + start), position(base + end))
        for key, (start, end) in found.items()
        if key in asked
    }


def locate_nodes(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, CodeRange]:
    """``{id(node): CodeRange}`` for ``nodes`` of ``module``; nodes not in the module are absent."""
    asked = {id(n) for n in nodes}
    if not asked:
        return {}
    state = _generate(module, module, asked)
    return _ranges(state.found, asked, _line_starts(state.tokens))


# -- starting at the anchor statement -----------------------------------------------------------

#: Statements whose body is searched for a deeper anchor.
_DESCEND = (cst.FunctionDef, cst.ClassDef)


def _anchor(module: cst.Module, node: cst.CSTNode, parent_of: Callable) -> tuple[cst.CSTNode, tuple[str, ...]] | None:
    """(anchor statement, the indentation tokens of the blocks around it) for ``node``, or None
    when it has none (the module itself, its header or footer)."""
    path = [node]
    while (parent := parent_of(path[-1])) is not None:
        path.append(parent)
    path.reverse()  # module ... node
    if path[0] is not module or len(path) < 2 or not any(s is path[1] for s in module.body):
        return None
    depth, indents = 1, ()
    while type(path[depth]) in _DESCEND and depth + 2 < len(path):
        block = path[depth + 1]
        if type(block) is not cst.IndentedBlock or block is not path[depth].body:
            break
        indents += (module.default_indent if block.indent is None else block.indent,)
        depth += 2
    return path[depth], indents


def locate_in_source(
    module: cst.Module, source: str, nodes: Iterable[cst.CSTNode], parent_of: Callable
) -> dict[int, CodeRange]:
    """:func:`locate_nodes`, generating only each node's anchor statement (see the module
    docstring); the same ranges."""
    nodes = [n for n in nodes if n is not None]
    if _LONE_CR.search(source):
        # libcst counts a lone \r followed by a line's \n as two newlines when they fall in
        # two tokens; lines are counted here in the source text, so let the tokens decide.
        return locate_nodes(module, nodes)
    groups: dict[int, tuple[cst.CSTNode, tuple[str, ...], list[cst.CSTNode]]] = {}
    for n in nodes:
        found = _anchor(module, n, parent_of)
        if found is None:
            return locate_nodes(module, nodes)
        groups.setdefault(id(found[0]), (found[0], found[1], []))[2].append(n)
    starts: list[int] | None = None
    out: dict[int, CodeRange] = {}
    for statement, indents, members in groups.values():
        asked = {id(n) for n in members}
        # The anchor's code up to its last asked node first (a prefix of the anchor's text, so
        # also found where the anchor starts); its whole code when that prefix is not unique.
        for stop in (True, False):
            state = _generate(statement, module, asked, indents, stop)
            text = "".join(state.tokens)
            begin = source.find(text) if text else -1
            if begin >= 0 and source.find(text, begin + 1) < 0 and asked <= state.found.keys():
                break
        else:
            return locate_nodes(module, nodes)
        if starts is None:
            starts = [0, *(m.end() for m in _NEWLINE.finditer(source))]
        out.update(_ranges(state.found, asked, starts, begin))
    return out
