"""What the string literals of a module say about the task commands it builds.

Orchestrators build ``python flow.py <top-level> init|step …`` command lines out of string
literals: list elements (``["step", name, "--run-id %s" % rid]``), ``%``/f-string/``format``
templates, or generated code (``'"--retry-count"', '"0"'``). This module collects the string
literals that are *code* — never comments, docstrings, exception or log messages, or click option
declarations — and finds options in them together with the expression that gives their value.

The rules built on it reason about literal option names because that is how the Metaflow CLI is
driven; unlike a text search, a ``--branch`` in a comment, docstring or error message never counts.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterable, Iterator

import libcst as cst

from mfx.analysis.orchestrator_names import call_name, is_docstring

#: Calls whose string arguments are messages, not command parts.
MESSAGE_CALLS = {
    "echo", "echo_always", "print", "debug", "info", "warning", "warn", "error", "exception",
    "critical", "log", "secho", "fail", "skip", "option", "argument",
}
PLACEHOLDER = "\x00"


@dataclasses.dataclass
class Fragment:
    """A string literal used as code."""

    node: cst.BaseExpression
    text: str  # literal value, quotes of generated code removed, PLACEHOLDER per f-string field
    fields: list[cst.BaseExpression]  # f-string expressions, in order
    function: cst.FunctionDef | None


@dataclasses.dataclass
class OptionUse:
    option: str
    fragment: Fragment
    literal: str | None  # the value written in the same string ("0", "$((X-1))"), if any
    expr: cst.BaseExpression | None  # the expression that supplies the value, if traced


class Strings:
    """All code string literals of one module, with enough structure to trace option values."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.fragments: list[Fragment] = []
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._collect(module, None, False)

    # -- collection ----------------------------------------------------------------------
    def _collect(self, node: cst.CSTNode, func: cst.FunctionDef | None, muted: bool) -> None:
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            if not muted:
                frag = _fragment(node, func)
                if frag is not None:
                    self.fragments.append(frag)
            if not isinstance(node, cst.FormattedString):
                return
        if isinstance(node, cst.FunctionDef):
            func = node
        children = list(node.children)
        for child in children:
            self.parents[child] = node
            child_muted = muted
            if isinstance(node, (cst.Raise, cst.Assert)):
                child_muted = True
            elif isinstance(child, cst.Decorator):
                child_muted = True
            elif is_docstring(child) and isinstance(
                node, (cst.Module, cst.IndentedBlock)
            ):
                child_muted = True
            elif isinstance(node, cst.Call) and child is not node.func:
                if call_name(node) in MESSAGE_CALLS:
                    child_muted = True
            self._collect(child, func, child_muted)

    # -- queries ---------------------------------------------------------------------------
    def in_function(self, func: cst.FunctionDef) -> list[Fragment]:
        return [f for f in self.fragments if f.function is func]

    def functions(self) -> list[cst.FunctionDef]:
        seen: list[cst.FunctionDef] = []
        for f in self.fragments:
            if f.function is not None and f.function not in seen:
                seen.append(f.function)
        return seen

    def option_uses(self, option: str, fragments: Iterable[Fragment] | None = None) -> list[OptionUse]:
        pattern = re.compile(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])")
        out = []
        for frag in self.fragments if fragments is None else fragments:
            for match in pattern.finditer(frag.text):
                out.append(self._value(option, frag, match.end()))
        return out

    def mentions(self, word: str, fragments: Iterable[Fragment] | None = None) -> list[Fragment]:
        pattern = re.compile(r"(?<![\w-])" + re.escape(word) + r"(?![\w])")
        return [f for f in (self.fragments if fragments is None else fragments) if pattern.search(f.text)]

    def tokens(self, word: str, fragments: Iterable[Fragment] | None = None) -> list[Fragment]:
        """Fragments that are exactly ``word`` or contain it as a whitespace-separated token."""
        out = []
        for f in self.fragments if fragments is None else fragments:
            if word in f.text.split():
                out.append(f)
        return out

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    # -- value tracing ---------------------------------------------------------------------
    def _value(self, option: str, frag: Fragment, end: int) -> OptionUse:
        rest = frag.text[end:]
        if rest[:1] in ("=", " ", "\t") and rest[1:].strip():
            token = rest[1:].lstrip().split()[0]
            if token == PLACEHOLDER or token.startswith(PLACEHOLDER):
                index = frag.text[:end].count(PLACEHOLDER)
                expr = frag.fields[index] if index < len(frag.fields) else None
                return OptionUse(option, frag, None, expr)
            if re.match(r"%[-#0 +]*\d*(\.\d+)?[sdirf]", token):
                return OptionUse(option, frag, None, self._percent_operand(frag, end))
            if "{" in token and "{{" not in token:
                return OptionUse(option, frag, None, None)  # str.format: not traced
            return OptionUse(option, frag, token, None)
        if rest.strip() == "":
            return OptionUse(option, frag, None, self._next_element(frag.node))
        return OptionUse(option, frag, None, None)

    def _percent_operand(self, frag: Fragment, end: int) -> cst.BaseExpression | None:
        parent = self.parent(frag.node)
        if not (
            isinstance(parent, cst.BinaryOperation)
            and isinstance(parent.operator, cst.Modulo)
            and parent.left is frag.node
        ):
            return None
        before = frag.text[:end].replace("%%", "")
        index = len(re.findall(r"%[-#0 +]*\d*(?:\.\d+)?[sdirf]", before))
        right = parent.right
        if isinstance(right, cst.Tuple):
            return right.elements[index].value if index < len(right.elements) else None
        return right if index == 0 else None

    def _next_element(self, node: cst.CSTNode) -> cst.BaseExpression | None:
        element = self.parent(node)
        container = self.parent(element) if element is not None else None
        if isinstance(element, cst.Element) and isinstance(container, (cst.List, cst.Tuple)):
            elements = list(container.elements)
            i = elements.index(element)
            if i + 1 < len(elements):
                return elements[i + 1].value
        return None


def _strip_generated_quotes(text: str) -> str:
    # Generated code such as '"--retry-count"' or "'step'" — the quotes belong to the output.
    return text.replace('"', " ").replace("'", " ")


def _fragment(node: cst.BaseExpression, func: cst.FunctionDef | None) -> Fragment | None:
    if isinstance(node, cst.FormattedString):
        parts, fields = [], []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            else:
                parts.append(PLACEHOLDER)
                fields.append(part.expression)
        return Fragment(node, _strip_generated_quotes("".join(parts)), fields, func)
    if isinstance(node, cst.ConcatenatedString):
        texts, fields = [], []
        for side in (node.left, node.right):
            sub = _fragment(side, func)
            if sub is None:
                return None
            texts.append(sub.text)
            fields.extend(sub.fields)
        return Fragment(node, "".join(texts), fields, func)
    try:
        value = node.evaluated_value  # type: ignore[union-attr]
    except Exception:  # pragma: no cover - malformed escapes
        return None
    if not isinstance(value, str):
        return None
    return Fragment(node, _strip_generated_quotes(value), [], func)


# -- expressions ---------------------------------------------------------------------------

def assignments(func: cst.FunctionDef, name: str) -> list[cst.BaseExpression]:
    """Values assigned to the local ``name`` anywhere in ``func`` (not nested functions)."""
    out: list[cst.BaseExpression] = []

    def visit(node: cst.CSTNode) -> None:
        for child in node.children:
            if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue
            if isinstance(child, cst.Assign):
                for t in child.targets:
                    if isinstance(t.target, cst.Name) and t.target.value == name:
                        out.append(child.value)
            elif isinstance(child, cst.AnnAssign) and isinstance(child.target, cst.Name):
                if child.target.value == name and child.value is not None:
                    out.append(child.value)
            visit(child)

    visit(func.body)
    return out


def constant(expr: cst.BaseExpression | None, func: cst.FunctionDef | None, depth: int = 3) -> str | None:
    """The constant text an expression always evaluates to (through ``str()``/``int()`` and
    local assignments), or None when it may vary."""
    if expr is None or depth < 0:
        return None
    if isinstance(expr, cst.Integer):
        return str(expr.evaluated_value)
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return _strip_generated_quotes(value).strip() if isinstance(value, str) else None
    if isinstance(expr, cst.FormattedString):
        if all(isinstance(p, cst.FormattedStringText) for p in expr.parts):
            return "".join(p.value for p in expr.parts)  # type: ignore[union-attr]
        if len(expr.parts) == 1:
            only = expr.parts[0]
            if isinstance(only, cst.FormattedStringExpression):
                return constant(only.expression, func, depth - 1)
        return None
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("str", "int"):
        if len(expr.args) == 1:
            return constant(expr.args[0].value, func, depth - 1)
        return None
    if isinstance(expr, cst.Name) and func is not None:
        values = assignments(func, expr.value)
        if not values:
            return None
        consts = {constant(v, func, depth - 1) for v in values}
        if len(consts) == 1:
            return consts.pop()
    return None


def expression_parts(expr: cst.CSTNode, func: cst.FunctionDef | None, depth: int = 3) -> Iterator[cst.CSTNode]:
    """Nodes of ``expr`` and, for local names, of the values assigned to them (data flow within
    the function, ``depth`` levels)."""
    stack: list[tuple[cst.CSTNode, int]] = [(expr, depth)]
    seen: set[int] = set()
    while stack:
        node, d = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, cst.Name) and func is not None and d > 0:
            for value in assignments(func, node.value):
                stack.append((value, d - 1))
        for child in node.children:
            stack.append((child, d))


def is_step_builder(strings: Strings, func: cst.FunctionDef) -> Fragment | None:
    """The ``step`` token of a function that builds a ``step`` command (it also names
    ``--run-id`` and ``--task-id``), or None."""
    frags = strings.in_function(func)
    steps = strings.tokens("step", frags)
    if not steps:
        return None
    if strings.option_uses("--run-id", frags) and strings.option_uses("--task-id", frags):
        return steps[0]
    return None


def step_builders(strings: Strings) -> list[tuple[cst.FunctionDef, Fragment]]:
    out = []
    for func in strings.functions():
        anchor = is_step_builder(strings, func)
        if anchor is not None:
            out.append((func, anchor))
    return out
