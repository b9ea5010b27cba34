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
from collections.abc import Iterable, Iterator

import libcst as cst

from mfx.analysis.names import literal_value
from mfx.analysis.orchestrator_names import SCOPES, call_name, is_docstring, walk
from mfx.engine.embedded import holds_code
from mfx.engine.index import TreeIndex, index_for, memo
from mfx.engine.shellcode import is_shell_constant

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
    text: str  # literal value, punctuation of generated code blanked, PLACEHOLDER per f-string field
    fields: list[cst.BaseExpression]  # f-string expressions, in order
    function: cst.FunctionDef | None
    raw: str = ""  # literal value as written (PLACEHOLDER per f-string field)


@dataclasses.dataclass
class OptionUse:
    option: str
    fragment: Fragment
    literal: str | None  # the value written in the same string ("0", "$((X-1))"), if any
    expr: cst.BaseExpression | None  # the expression that supplies the value, if traced
    at: int = -1  # where the option starts in ``fragment.text``

    @property
    def word(self) -> tuple[str, int] | None:
        """``(option, k)``: this use is the ``k``-th occurrence of the option in its string
        (:attr:`mfx.rule.Report.word`)."""
        return (self.option, self.fragment.text.count(self.option, 0, self.at)) if self.at >= 0 else None


class _StringVisitor(cst.CSTVisitor):
    """One pass over a module: records parents and the string literals that are code."""

    def __init__(self, strings: Strings) -> None:
        super().__init__()
        self.strings = strings
        self.stack: list[cst.CSTNode] = []
        self.functions: list[cst.FunctionDef] = []
        self.muted: list[bool] = [False]

    def on_visit(self, node: cst.CSTNode) -> bool:
        # Exact type tests: isinstance() against libcst's abstract classes dominates otherwise.
        kind = type(node)
        parent = self.stack[-1] if self.stack else None
        muted = self.muted[-1]
        if parent is not None:
            self.strings.parents[id(node)] = parent
            muted = muted or _mutes(node, kind, parent)
        if kind in _STRINGS and not muted:
            frag = _fragment(node, self.functions[-1] if self.functions else None)  # type: ignore[arg-type]
            if frag is not None:
                self.strings.fragments.append(frag)
        if kind is cst.FunctionDef:
            self.functions.append(node)  # type: ignore[arg-type]
        self.stack.append(node)  # on_leave runs even when the children are skipped
        self.muted.append(muted)
        return kind is not cst.SimpleString and kind is not cst.ConcatenatedString

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        self.muted.pop()
        if type(original_node) is cst.FunctionDef:
            self.functions.pop()


def _mutes(node: cst.CSTNode, kind: type, parent: cst.CSTNode) -> bool:
    """Whether the strings in ``node`` are messages or docs, not code: under raise/assert, a
    decorator, a docstring, or an argument of a message call (print, logging, ...)."""
    parent_kind = type(parent)
    return (parent_kind in _MUTING_PARENTS or kind is cst.Decorator
            or parent_kind in _BODIES and kind is cst.SimpleStatementLine and is_docstring(node)
            or parent_kind is cst.Call and node is not parent.func and call_name(parent) in MESSAGE_CALLS)  # type: ignore[attr-defined]


_MUTING_PARENTS = {cst.Raise, cst.Assert}
_BODIES = {cst.Module, cst.IndentedBlock}
_STRINGS = {cst.SimpleString, cst.ConcatenatedString, cst.FormattedString}


class Strings:
    """All code string literals of one module, with enough structure to trace option values.

    ``parents`` maps (the ids of) the nodes on the paths from the module to its string literals (and their
    direct children) to their parents; nodes of string-free sub-trees are not in it."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.fragments: list[Fragment] = []
        self.parents: dict[int, cst.CSTNode] = {}  # by id(): libcst's __hash__ is Python code
        self._index: dict[int, list[Fragment]] | None = None
        self._collect(module, None, False)

    # -- collection ----------------------------------------------------------------------
    def _collect(self, module: cst.Module, func: cst.FunctionDef | None, muted: bool) -> None:
        idx = index_for(module)
        if idx is None or idx.position(module) != 0:
            module.visit(_StringVisitor(self))
        else:
            self._collect_indexed(idx)

    def _collect_indexed(self, idx: TreeIndex) -> None:
        """What ``module.visit(_StringVisitor(self))`` records, read from the module's index: each
        string literal's ancestors are looked up, not walked to. Every fragment, its muting, its
        function and the parents read later (of a fragment, of its list element) lie on the paths
        from the module to the literals; a node's state is computed once and shared by every
        literal under it."""
        kinds = idx.by_type()
        order, up = idx.order, idx.parent_positions()
        n = len(order)
        # Per position (filled along the paths only): known, muted, its children are inside a
        # literal (never visited), the innermost function around its children.
        known, muted, inside = bytearray(n), bytearray(n), bytearray(n)
        functions: list[cst.FunctionDef | None] = [None] * n
        known[0] = 1
        parents = self.parents
        simple, concatenated, function_def = cst.SimpleString, cst.ConcatenatedString, cst.FunctionDef
        for p in sorted(i for kind in _STRINGS for i in kinds.get(kind, ())):
            path = []
            j = p
            while not known[j]:
                path.append(j)
                j = up[j]
            for k in reversed(path):
                u = up[k]
                node, parent = order[k], order[u]
                kind = type(node)
                if not inside[u]:  # a node under a literal is never visited
                    parents[id(node)] = parent
                muted[k] = muted[u] or _mutes(node, kind, parent)
                inside[k] = inside[u] or kind is simple or kind is concatenated
                functions[k] = node if kind is function_def else functions[u]  # type: ignore[assignment]
                known[k] = 1
            u = up[p]
            if not muted[p] and not inside[u]:
                frag = _fragment(order[p], functions[u])  # type: ignore[arg-type]
                if frag is not None:
                    self.fragments.append(frag)

    # -- queries ---------------------------------------------------------------------------
    def in_function(self, func: cst.FunctionDef) -> list[Fragment]:
        return self._by_function().get(id(func), [])

    def functions(self) -> list[cst.FunctionDef]:
        out: dict[int, cst.FunctionDef] = {}
        for f in self.fragments:
            if f.function is not None:
                out.setdefault(id(f.function), f.function)
        return list(out.values())

    def _by_function(self) -> dict[int, list[Fragment]]:
        if self._index is None:
            self._index = {}
            for f in self.fragments:
                self._index.setdefault(id(f.function), []).append(f)
        return self._index

    def option_uses(self, option: str, fragments: Iterable[Fragment] | None = None) -> list[OptionUse]:
        pattern = re.compile(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])")
        out = []
        for frag in self.fragments if fragments is None else fragments:
            for match in pattern.finditer(frag.text):
                use = self._value(option, frag, match.end())
                use.at = match.start()
                out.append(use)
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
        return self.parents.get(id(node))

    # -- value tracing ---------------------------------------------------------------------
    def _value(self, option: str, frag: Fragment, end: int) -> OptionUse:
        rest = frag.text[end:]
        if rest[:1] in ("=", " ", "\t") and rest[1:].strip():
            token = rest[1:].lstrip().split()[0]
            if PLACEHOLDER in token:  # an f-string field, possibly after a literal prefix
                index = frag.text[:end].count(PLACEHOLDER)
                expr = frag.fields[index] if index < len(frag.fields) else None
                literal = token if token != PLACEHOLDER else None
                return OptionUse(option, frag, literal, expr)
            if re.match(r"%[-#0 +]*\d*(\.\d+)?[sdirf]", token):
                return OptionUse(option, frag, None, self._percent_operand(frag, end))
            if "{" in token and "{{" not in token and "${" not in token:
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


_GENERATED_PUNCTUATION = str.maketrans({'"': " ", "'": " ", ",": " ", "[": " ", "]": " "})


def _strip_generated_quotes(text: str) -> str:
    """Blank out the punctuation of generated code (``'"--retry-count", "0",'``, ``["step",``):
    templates of Python or YAML source hold command tokens inside quotes, commas and brackets."""
    return text.translate(_GENERATED_PUNCTUATION)


def _fragment(node: cst.BaseExpression, func: cst.FunctionDef | None) -> Fragment | None:
    if func is None and type(node) is not cst.FormattedString:
        whole = _evaluated(node)
        if isinstance(whole, str) and is_shell_constant(whole):
            return None  # shell text outside functions is read as commands (mfx.engine.shellcode)
    if isinstance(node, cst.FormattedString):
        parts, fields = [], []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            else:
                parts.append(PLACEHOLDER)
                fields.append(part.expression)
        raw = "".join(parts)
        return Fragment(node, _strip_generated_quotes(raw), fields, func, raw)
    if isinstance(node, cst.ConcatenatedString):
        texts, raws, fields = [], [], []
        for side in (node.left, node.right):
            sub = _fragment(side, func)
            if sub is None:
                return None
            texts.append(sub.text)
            raws.append(sub.raw)
            fields.extend(sub.fields)
        return Fragment(node, "".join(texts), fields, func, "".join(raws))
    try:
        value = literal_value(node)  # type: ignore[arg-type]
    except (ValueError, SyntaxError):  # pragma: no cover - malformed escapes
        return None
    if not isinstance(value, str) or holds_code(value):
        return None  # a string that is a module of Python is linted as one (mfx.engine.embedded)
    if value.lstrip().startswith("#") and "\n" not in value.strip():
        return None  # a comment line of generated code or a script: words, not command parts
    return Fragment(node, _strip_generated_quotes(value), [], func, value)


def _evaluated(node: cst.BaseExpression) -> object:
    try:
        return node.evaluated_value  # type: ignore[union-attr]
    except (ValueError, SyntaxError, AttributeError):  # pragma: no cover - malformed escapes
        return None


# -- expressions ---------------------------------------------------------------------------

def assignments(func: cst.FunctionDef, name: str) -> list[cst.BaseExpression]:
    """Values assigned to the local ``name`` anywhere in ``func`` (not nested functions)."""
    return memo("assignments", func, _assignment_index).get(name, [])


def _assignment_index(func: cst.FunctionDef) -> dict[str, list[cst.BaseExpression]]:
    out: dict[str, list[cst.BaseExpression]] = {}
    for node in walk(func.body, SCOPES):
        kind = type(node)
        if kind is cst.Assign:
            for t in node.targets:  # type: ignore[attr-defined]
                if type(t.target) is cst.Name:
                    out.setdefault(t.target.value, []).append(node.value)  # type: ignore[attr-defined]
        elif kind is cst.AnnAssign and type(node.target) is cst.Name:  # type: ignore[attr-defined]
            if node.value is not None:  # type: ignore[attr-defined]
                out.setdefault(node.target.value, []).append(node.value)  # type: ignore[attr-defined]
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
        root, d = stack.pop()
        if id(root) in seen:
            continue
        seen.add(id(root))
        for node in walk(root):
            yield node
            if isinstance(node, cst.Name) and func is not None and d > 0:
                for value in assignments(func, node.value):
                    stack.append((value, d - 1))


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


# -- retry counters ------------------------------------------------------------------------

#: Native attempt counters start at 1 (Airflow ``try_number``, Prefect ``run_count``,
#: ``AWS_BATCH_JOB_ATTEMPT``, Temporal ``activity.info().attempt``, GitHub's ``GITHUB_RUN_ATTEMPT``).
#: Rather than a fixed list, a counter is recognised by its name: it speaks of an attempt or a
#: try and not of a retry (``retry_count``, Argo's ``retries``, Step Functions' ``RetryCount`` are
#: 0-based), an index, a maximum or a total. Cloud Run's ``CLOUD_RUN_TASK_ATTEMPT`` is a known
#: 0-based exception.
_COUNTER_WORD = re.compile(r"attempt|try_?num|trynumber|try_?no\b|run_?count|\btries\b", re.I)
_NOT_COUNTER = re.compile(r"retr|index|idx|zero|max|total|limit|allowed|budget|policy|CLOUD_RUN_TASK_ATTEMPT", re.I)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Names that are 1-based by their own spelling even as plain locals or parameters.
_NUMBERED = re.compile(r"(attempt|try)_?(number|num|no)\b|try_number|run_count", re.I)


def is_one_based_counter_name(word: str) -> bool:
    """``try_number``, ``attemptNumber``, ``AWS_BATCH_JOB_ATTEMPT``, ``attempt`` … (not
    ``retry_attempt``, ``attempt_index``, ``max_attempts``)."""
    return bool(_COUNTER_WORD.search(word)) and not _NOT_COUNTER.search(word)


def text_names_one_based_counter(text: str) -> bool:
    """A string (shell script, template placeholder, environment variable name) names a 1-based
    counter: ``$AWS_BATCH_JOB_ATTEMPT``, ``{{ task.try_number }}``, ``$(context.attempt)``,
    ``"JOB_ATTEMPT"``. A lower-case key of the project's own data (``task["attempt"]``) says
    nothing about where the value comes from."""
    placeholder = "$" in text or "{{" in text
    return any(
        is_one_based_counter_name(w) and (placeholder or w.isupper() or bool(_NUMBERED.search(w)))
        for w in _IDENT.findall(text)
    )


def value_is_one_based(
    literal: str | None, text: str, expr: cst.CSTNode | None, func: cst.FunctionDef | None
) -> bool:
    """An option value comes from a 1-based counter with no ``- 1`` applied: an attribute of a
    scheduler object (``ti.try_number``, ``ctx.attempt``, ``job.attemptNumber``), an environment
    variable or placeholder (``JOB_ATTEMPT``), or a local named as a numbered attempt
    (``attempt_no``). ``literal`` is the value written in the string ``text`` (then ``expr`` is
    None), ``expr`` the expression giving it (evaluated in ``func``)."""
    if literal is not None and expr is None:
        # the subtraction may follow the name inside the same shell expression: $((X - 1))
        after = text[text.find(literal):] if literal in text else literal
        expression = re.match(r"\S*(\s*[-+*/]\s*\S+)*", after)
        tail = expression.group(0) if expression else literal
        return text_names_one_based_counter(literal) and not re.search(r"-\s*1\b", tail)
    if expr is None:
        return False
    marker = subtract = False
    for node in expression_parts(expr, func):
        if isinstance(node, cst.Attribute):
            owner = node.value
            if is_one_based_counter_name(node.attr.value) and not (
                isinstance(owner, cst.Name) and owner.value in ("self", "cls")
            ):
                marker = True
        elif isinstance(node, cst.Name) and _NUMBERED.search(node.value) and not _NOT_COUNTER.search(node.value):
            marker = True
        elif isinstance(node, (cst.SimpleString, cst.FormattedStringText)):
            text = node.value
            if text_names_one_based_counter(text):
                marker = True
            if re.search(r"-\s*1\b", text):
                subtract = True
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Subtract) or isinstance(node, cst.Subtract):
            subtract = True
    return marker and not subtract


def code_strings(file) -> Strings:
    """The code string literals of one file (:class:`Strings`, kept on the file context).

    Not a model of the task commands: the command model (:mod:`mfx.analysis.command_model`)
    reads them as one of its sources, and the few rules that are about a *word written in code*
    anywhere (an environment variable name, a node type) rather than about a command read them
    here. Command rules query the model instead."""
    return file.cached(code_strings, lambda: Strings(file.module))
