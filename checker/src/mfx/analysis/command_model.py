"""One project-wide model of the task commands an extension assembles.

A *command builder* is a function that assembles a Metaflow ``step`` command: the sub-command
token ``step`` together with the options ``--run-id`` and ``--task-id``. Extensions assemble it
in many shapes; this module follows them all, statement by statement, into one ordered list of
:class:`Piece` s (option names with their values, positional tokens):

* list displays, ``append``/``extend``/``+=``/``insert`` across statements, ``list + list``;
* string concatenation and ``%``/f-string/``str.format`` formatting across statements,
  ``" ".join(...)``, ``shlex.join(...)``;
* helper functions of the project that return argument lists, strings or option dicts
  (inter-procedural, :data:`DEPTH` calls deep, across modules through imports);
* option dicts keyed by option names without dashes (``{"run-id": r}``) expanded by a helper
  that writes ``"--" + key`` (or Metaflow's ``dict_to_cli_options``);
* kwargs of Metaflow's click API (``api(datastore_root=r).step(step_name=s, run_id=r, ...)``).

Control flow is read in document order (both branches of an ``if`` contribute, a loop body once):
a piece appended under a condition counts as passed. Every command rule queries the model
(:func:`model_of`): which options a builder passes, with which value, in which order, and where
the builder is, so a missing piece is reported at the builder that lacks it.

Queries (no command rule reads code strings itself): :meth:`CommandModel.commands` and
:meth:`~CommandModel.builders` (assembled commands, their pieces in order, the sub-command),
:meth:`~CommandModel.option_values` (every value given to an option, assembled or written next to
it in a code string), :meth:`~CommandModel.written_before_sub` (an option before the sub-command
in one string or display), :meth:`~CommandModel.writers` (functions that write a sub-command with
an option), :meth:`~CommandModel.written_outside_commands`, :meth:`~CommandModel.mentions` and
:meth:`~CommandModel.written` (pieces written in code that no assembled command holds: generated
code, templates, lists handed to code outside the project). A piece written inside a string keeps
where it starts there (:attr:`Piece.word`), so a finding on it points at that word.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from typing import Union

import libcst as cst

from mfx.analysis.orchestrator_command import Fragment, code_strings
from mfx.analysis.orchestrator_names import string_value
from mfx.engine.context import FileContext, ProjectContext
from mfx.rule import Report

#: How many helper calls deep a command is followed.
DEPTH = 3
#: Top-level flags of the Metaflow CLI that take no value (so ``--production step`` is the
#: sub-command ``step``, while ``--tag step`` is a tag named step).
FLAGS = {"--quiet", "--production", "--pylint", "--no-pylint", "--debug", "--no-debug"}
SUBCOMMANDS = ("step", "init")
#: Helpers known to expand an option dict into ``--key value`` arguments.
EXPANDERS = {"dict_to_cli_options"}
_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdirf]|\{[^{}]*\}")


@dataclasses.dataclass
class Piece:
    """One piece of a command: a literal token (``text``) or a value (``expr``)."""

    node: cst.CSTNode  # where it is written (reported here)
    path: str
    text: str | None = None
    expr: cst.BaseExpression | None = None
    func: cst.FunctionDef | None = None  # the function ``expr`` belongs to
    glue: bool = False  # written directly before the next piece (``"--run-id=" + rid``)
    sep: bool = False  # a shell command separator (``&&``, ``;``, a new line) inside a string
    #: Where ``text`` starts in the string ``node`` holds: (the string's text, offset). A report
    #: on the piece points at that word's own line and column (:attr:`word`), not the string's start.
    spot: tuple[str, int] | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def word(self) -> tuple[str, int] | None:
        """``(text, k)``: the piece is the ``k``-th occurrence of its text in its string
        (:attr:`mfx.rule.Report.word`), or None for a piece that is a whole node."""
        if self.spot is None or not self.text:
            return None
        whole, at = self.spot
        return self.text, whole.count(self.text, 0, at)

    def report(self, message: str) -> Report:
        """A finding on this piece: on its own word when it is written inside a string."""
        return Report(node=self.node, message=message, path=self.path, word=self.word)

    @property
    def option(self) -> str | None:
        if self.text is not None and self.text.startswith("--") and len(self.text) > 2:
            return self.text.split("=", 1)[0]
        return None


@dataclasses.dataclass
class Seq:
    """The pieces of an expression; a string may glue to its neighbours at either end."""

    pieces: list
    string: bool = False
    open_start: bool = False
    open_end: bool = False

    def __add__(self, other: Seq) -> Seq:
        if self.string and other.string and self.open_end and other.open_start and self.pieces and other.pieces:
            last, first = self.pieces[-1], other.pieces[0]
            pieces = list(self.pieces)
            if last.text is not None and first.text is not None and not (last.sep or first.sep):
                pieces[-1] = dataclasses.replace(last, text=last.text + first.text, glue=first.glue)
                pieces += other.pieces[1:]
            else:
                pieces[-1] = dataclasses.replace(last, glue=True)
                pieces += other.pieces
            return Seq(pieces, True, self.open_start, other.open_end)
        if not self.pieces:
            return other
        if not other.pieces:
            return Seq(list(self.pieces), self.string or other.string, self.open_start, self.open_end)
        return Seq(self.pieces + other.pieces, self.string and other.string, self.open_start, other.open_end)


EMPTY = Seq([])


@dataclasses.dataclass
class DictVal:
    """An option dict: (key, value expression or None for a flag, key node)."""

    entries: list


Value = Union[Seq, DictVal]


@dataclasses.dataclass
class OptionValue:
    option: str
    piece: Piece  # the option's piece (reported here)
    literal: str | None  # the value written with it ("--retry-count=0"), if any
    value: Piece | None  # the piece that gives the value, if any


@dataclasses.dataclass
class Command:
    """An assembled command: ordered pieces, the sub-command among them."""

    pieces: list
    sub: int  # index of the sub-command piece
    function: cst.FunctionDef
    path: str

    @property
    def subcommand(self) -> str:
        return self.pieces[self.sub].text  # type: ignore[return-value]

    @property
    def anchor(self) -> Piece:
        return self.pieces[self.sub]

    def options(self) -> Iterator[OptionValue]:
        ps = self.pieces
        for i, p in enumerate(ps):
            name = p.option
            if name is None:
                continue
            literal = None
            value = None
            if "=" in p.text:  # type: ignore[operator]
                literal = p.text.split("=", 1)[1] or None  # type: ignore[union-attr]
                if literal is None and p.glue and i + 1 < len(ps):
                    value = ps[i + 1]
            elif name not in FLAGS and i + 1 < len(ps) and ps[i + 1].option is None:
                value = ps[i + 1]
                if value.text is not None:
                    literal, value = value.text, None
            yield OptionValue(name, p, literal, value)

    def has_option(self, *names: str) -> bool:
        return any(o.option in names for o in self.options())

    def before_sub(self, name: str) -> list[Piece]:
        return [p for p in self.pieces[: self.sub] if p.option == name]


def subcommand_index(pieces: list, names: Iterable[str] = SUBCOMMANDS) -> int | None:
    for i, p in enumerate(pieces):
        if p.text in names:
            prev = pieces[i - 1] if i else None
            if (
                prev is not None
                and prev.option is not None
                and prev.option not in FLAGS
                and "=" not in (prev.text or "")
            ):
                continue  # the value of the previous option (a tag named "step")
            return i
    return None


# -- evaluation ----------------------------------------------------------------------------------


class _Function:
    """Evaluates one function's statements in order, tracking list/string/dict locals."""

    def __init__(self, model: CommandModel, file: FileContext, func: cst.FunctionDef, depth: int) -> None:
        self.model = model
        self.file = file
        self.func = func
        self.depth = depth
        self.state: dict[str, Value] = {}
        self.candidates: list[Seq] = []
        self.returns: list[Value] = []
        self.helpers: set[int] = set()
        self.expands: bool = False  # writes "--" + <name>: expands a dict of options
        self._block(func.body)

    # statements
    def _block(self, body: cst.BaseSuite) -> None:
        stmts = body.body if isinstance(body, cst.IndentedBlock) else [body]
        for stmt in stmts:
            self._stmt(stmt)

    def _stmt(self, stmt: cst.CSTNode) -> None:
        kind = type(stmt)
        if kind is cst.SimpleStatementLine or kind is cst.SimpleStatementSuite:
            for small in stmt.body:  # type: ignore[attr-defined]
                self._small(small)
        elif kind in (cst.FunctionDef, cst.ClassDef):
            return
        elif kind is cst.If:
            self._block(stmt.body)  # type: ignore[attr-defined]
            orelse = stmt.orelse  # type: ignore[attr-defined]
            if isinstance(orelse, cst.Else):
                self._block(orelse.body)
            elif orelse is not None:
                self._stmt(orelse)
        elif kind in (cst.For, cst.While, cst.With):
            self._block(stmt.body)  # type: ignore[attr-defined]
            orelse = getattr(stmt, "orelse", None)
            if orelse is not None:
                self._block(orelse.body)
        elif kind in _TRIES:
            self._block(stmt.body)  # type: ignore[attr-defined]
            for h in stmt.handlers:  # type: ignore[attr-defined]
                self._block(h.body)
            for extra in (stmt.orelse, stmt.finalbody):  # type: ignore[attr-defined]
                if extra is not None:
                    self._block(extra.body)

    def _small(self, small: cst.CSTNode) -> None:
        kind = type(small)
        if kind is cst.Assign:
            value = self.eval(small.value)  # type: ignore[attr-defined]
            for t in small.targets:  # type: ignore[attr-defined]
                self._assign(t.target, value, small.value)  # type: ignore[attr-defined]
        elif kind is cst.AnnAssign and small.value is not None:  # type: ignore[attr-defined]
            self._assign(small.target, self.eval(small.value))  # type: ignore[attr-defined]
        elif kind is cst.AugAssign and isinstance(small.operator, cst.AddAssign):  # type: ignore[attr-defined]
            target = small.target  # type: ignore[attr-defined]
            if isinstance(target, cst.Name):
                old = self.state.get(target.value)
                old_seq = old if isinstance(old, Seq) else self._opaque(target)
                self._assign(target, old_seq + self._seq(self.eval(small.value)))  # type: ignore[attr-defined]
        elif kind is cst.Expr:
            value = small.value  # type: ignore[attr-defined]
            if isinstance(value, cst.Call):
                self._method(value)
        elif kind is cst.Return and small.value is not None:  # type: ignore[attr-defined]
            value = self.eval(small.value)  # type: ignore[attr-defined]
            self.returns.append(value)
            if isinstance(value, Seq):
                self.candidates.append(value)

    def _assign(self, target: cst.BaseExpression, value: Value, raw: cst.BaseExpression | None = None) -> None:
        if isinstance(target, cst.Name):
            self.state[target.value] = value
            if isinstance(value, Seq):
                self.candidates.append(value)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            d = self.state.get(target.value.value)
            if isinstance(d, DictVal) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = string_value(target.slice[0].slice.value)
                if key is not None:
                    # the value as written (``opts["run-id"] = "r-" + h``: one value, several pieces)
                    expr = _value_expr(value)
                    d.entries.append((key, expr if expr is not None or raw is None else raw, target.slice[0].slice.value))

    def _method(self, call: cst.Call) -> None:
        func = call.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            self.eval(call)
            return
        name, method = func.value.value, func.attr.value
        current = self.state.get(name)
        if method in ("append", "extend", "insert") and (current is None or isinstance(current, Seq)):
            seq = current if isinstance(current, Seq) else self._opaque(func.value)
            args = [a.value for a in call.args]
            if method == "append" and len(args) == 1:
                new = seq + self._element(args[0])
            elif method == "extend" and len(args) == 1:
                new = seq + self._seq(self.eval(args[0]))
            elif method == "insert" and len(args) == 2:
                at = args[0]
                index = int(at.value) if isinstance(at, cst.Integer) else len(seq.pieces)
                item = self._element(args[1])
                new = Seq(seq.pieces[:index] + item.pieces + seq.pieces[index:])
            else:
                return
            self.state[name] = new
            self.candidates.append(new)
        elif method == "update" and isinstance(current, DictVal):
            for arg in call.args:
                if arg.keyword is not None:
                    current.entries.append((arg.keyword.value, arg.value, arg))
                else:
                    other = self.eval(arg.value)
                    if isinstance(other, DictVal):
                        current.entries.extend(other.entries)
        else:
            self.eval(call)

    # expressions
    def _opaque(self, expr: cst.BaseExpression) -> Seq:
        return Seq([Piece(expr, self.file.path, expr=expr, func=self.func)])

    def _seq(self, value: Value) -> Seq:
        if isinstance(value, DictVal):
            return EMPTY
        return value

    def _element(self, expr: cst.BaseExpression) -> Seq:
        """A list element: its tokens (a string element may hold several)."""
        value = self._seq(self.eval(expr))
        return Seq(value.pieces)

    def eval(self, expr: cst.BaseExpression) -> Value:  # noqa: C901 - one dispatch over node kinds
        kind = type(expr)
        if kind in (cst.SimpleString, cst.ConcatenatedString):
            value = string_value(expr)
            if value is None:
                return self._opaque(expr)
            return self._string(expr, [value], [])
        if kind is cst.FormattedString:
            texts, fields = [""], []
            for part in expr.parts:  # type: ignore[attr-defined]
                if isinstance(part, cst.FormattedStringText):
                    texts[-1] += part.value
                else:
                    fields.append(part.expression)
                    texts.append("")
            return self._string(expr, texts, fields)
        if kind in (cst.List, cst.Tuple):
            out = Seq([])
            for el in expr.elements:  # type: ignore[attr-defined]
                if isinstance(el, cst.StarredElement):
                    out = out + Seq(self._seq(self.eval(el.value)).pieces)
                else:
                    out = out + self._element(el.value)
            return Seq(out.pieces)
        if kind in (cst.ListComp, cst.GeneratorExp):
            return Seq(self._seq(self.eval(expr.elt)).pieces)  # type: ignore[attr-defined]
        if kind is cst.Dict:
            entries = []
            for el in expr.elements:  # type: ignore[attr-defined]
                if isinstance(el, cst.DictElement):
                    key = string_value(el.key)
                    if key is not None:
                        entries.append((key, el.value, el.key))
                elif isinstance(el, cst.StarredDictElement):
                    other = self.eval(el.value)
                    if isinstance(other, DictVal):
                        entries.extend(other.entries)
            return DictVal(entries)
        if kind is cst.BinaryOperation:
            op = type(expr.operator)  # type: ignore[attr-defined]
            if op is cst.Add:
                left = self.eval(expr.left)  # type: ignore[attr-defined]
                right = self.eval(expr.right)  # type: ignore[attr-defined]
                if isinstance(left, Seq) and isinstance(right, Seq):
                    # a value added to a string is part of that string: it may glue to it
                    if left.string and not right.string and _is_value(right):
                        right = Seq(right.pieces, True, True, True)
                    elif right.string and not left.string and _is_value(left):
                        left = Seq(left.pieces, True, True, True)
                    if (
                        isinstance(expr.left, cst.Name)
                        and left.pieces
                        and left.pieces[0].expr is expr.left
                        and right.string
                    ):  # type: ignore[attr-defined]
                        left = Seq(left.pieces, True, True, True)
                    return left + right
                return self._opaque(expr)
            if op is cst.Modulo and isinstance(expr.left, (cst.SimpleString, cst.ConcatenatedString)):  # type: ignore[attr-defined]
                template = string_value(expr.left)  # type: ignore[attr-defined]
                if template is None:
                    return self._opaque(expr)
                right = expr.right  # type: ignore[attr-defined]
                operands = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else [right]
                return self._template(expr.left, template, operands)  # type: ignore[attr-defined]
            return self._opaque(expr)
        if kind is cst.Name:
            value = self.state.get(expr.value)  # type: ignore[attr-defined]
            if value is not None:
                return value
            return self._opaque(expr)
        if kind is cst.Call:
            return self._call(expr)  # type: ignore[arg-type]
        if kind is cst.IfExp:
            body = self.eval(expr.body)  # type: ignore[attr-defined]
            return body if isinstance(body, Seq) and body.pieces and not _is_value(body) else self._opaque(expr)
        return self._opaque(expr)

    def _string(self, node: cst.BaseExpression, texts: list[str], fields: list[cst.BaseExpression]) -> Seq:
        """Tokens of a string whose literal parts are ``texts`` and fields ``fields`` (between)."""
        pieces: list[Piece] = []
        path = self.file.path
        joined = "\x00".join(texts)
        if not joined.strip():
            return (
                Seq([], True, True, True)
                if not fields
                else Seq([Piece(node, path, expr=f, func=self.func) for f in fields], True)
            )
        seen = 0  # fields before the current token
        prev_end, continued, comment = 0, False, False
        for m in re.finditer(r"\S+", joined):
            token = m.group(0)
            newline = "\n" in joined[prev_end : m.start()]
            prev_end = m.end()
            # Shell text: a new line ends a command unless a backslash continues it; comments,
            # separators and quotes are the shell's, not command pieces (mfx.analysis.shell).
            if newline:
                comment = False
                if not continued:
                    self._separate(pieces, node)
            continued = token in ("\\", "\\\\")  # an f-string's text is its source: "\\\\"
            if continued or comment:
                seen += token.count("\x00")
                continue
            if token in _SHELL_SEPARATORS:
                self._separate(pieces, node)
                continue
            if token.startswith("#") and "\x00" not in token:
                comment = True
                continue
            ends = token.endswith(";") and len(token) > 1
            token = _unquote(token[:-1] if ends else token)
            if not token:
                continue
            parts = token.split("\x00")
            at = m.start()
            for j, part in enumerate(parts):
                if part:
                    at = joined.find(part, at)
                    spot = (joined, at) if at >= 0 else None
                    pieces.append(Piece(node, path, text=part, glue=j < len(parts) - 1, spot=spot))
                    at = max(at, m.start()) + len(part)
                if j < len(parts) - 1:
                    field = fields[seen] if seen < len(fields) else None
                    seen += 1
                    pieces.append(Piece(node, path, expr=field, func=self.func, glue=bool(parts[j + 1])))
            if pieces:
                pieces[-1].glue = False
            if ends:
                self._separate(pieces, node)
        while pieces and pieces[0].sep:
            pieces.pop(0)
        return Seq(pieces, True, not joined[:1].isspace(), not joined[-1:].isspace())

    def _separate(self, pieces: list, node: cst.CSTNode) -> None:
        if pieces and not pieces[-1].sep:
            pieces.append(Piece(node, self.file.path, text=";", sep=True))

    def _template(self, node: cst.BaseExpression, template: str, operands: list) -> Seq:
        texts, fields = [], []
        last = 0
        i = 0
        for m in _FIELD.finditer(template.replace("%%", "\x01\x01")):
            texts.append(template[last : m.start()])
            fields.append(operands[i] if i < len(operands) else None)
            i += 1
            last = m.end()
        texts.append(template[last:])
        return self._string(node, texts, [f if f is not None else node for f in fields])

    def _call(self, call: cst.Call) -> Value:
        func = call.func
        args = [a for a in call.args if a.keyword is None and not a.star]
        name = (
            func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
        )
        if (
            name == "join"
            and len(args) == 1
            and (
                isinstance(func, cst.Attribute)
                and (string_value(func.value) is not None or _dotted(func) == "shlex.join")
            )
        ):
            joiner = string_value(func.value) if isinstance(func, cst.Attribute) else None
            items = args[0].value
            if joiner is not None and _separates(joiner) and isinstance(items, (cst.List, cst.Tuple)):
                # " && ".join([init, step]), "\n".join(lines): each element is a command of its own
                out: list[Piece] = []
                for el in items.elements:
                    out += self._seq(self.eval(el.value)).pieces
                    out.append(Piece(el, self.file.path, text=";", sep=True))
                return Seq(out[:-1], True)
            inner = self._seq(self.eval(args[0].value))
            return Seq(inner.pieces, True)
        if name == "format" and isinstance(func, cst.Attribute) and string_value(func.value) is not None:
            template = string_value(func.value) or ""
            fields = []
            positional = iter(a.value for a in args)
            keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
            texts, last = [], 0
            for m in re.finditer(r"\{([^{}]*)\}", template):
                texts.append(template[last : m.start()])
                key = m.group(1).split("!")[0].split(":")[0]
                fields.append(keywords.get(key) if key and not key.isdigit() else next(positional, None))
                last = m.end()
            texts.append(template[last:])
            return self._string(func.value, texts, [f if f is not None else call for f in fields])
        if name in ("list", "tuple") and len(args) == 1 and isinstance(func, cst.Name):
            return Seq(self._seq(self.eval(args[0].value)).pieces)
        if name == "dict" and isinstance(func, cst.Name):
            entries = [(a.keyword.value, a.value, a) for a in call.args if a.keyword is not None]
            return DictVal(entries)
        if name in SUBCOMMANDS and isinstance(func, cst.Attribute) and any(a.keyword is not None for a in call.args):
            return self._click(call, func, name)
        if name is not None and args and any(isinstance(self.eval(a.value), DictVal) for a in args):
            if name in EXPANDERS or self.model.expands(self.file, name, self.depth):
                return Seq([p for a in args for p in self._expand(self.eval(a.value))])
        if name is not None and self.depth > 0:
            helper = self.model.evaluate(self.file, name, self.depth - 1, method=isinstance(func, cst.Attribute))
            if helper is not None:
                self.helpers.add(id(helper.func))
                self.helpers |= helper.helpers
                values = [v for v in helper.returns]
                dicts = [v for v in values if isinstance(v, DictVal)]
                if dicts and len(dicts) == len(values):
                    return DictVal([e for d in dicts for e in d.entries])
                seqs = [v for v in values if isinstance(v, Seq) and v.pieces and not _is_value(v)]
                if seqs:
                    return max(seqs, key=lambda s: len(s.pieces))
        for a in call.args:
            if isinstance(a.value, (cst.List, cst.Tuple, cst.Dict, cst.Call)):
                self.eval(a.value)  # nested commands (subprocess.run([...]))
        return self._opaque(call)

    def _expand(self, value: Value) -> list[Piece]:
        if not isinstance(value, DictVal):
            return []
        out = []
        for key, expr, node in value.entries:
            option = "--" + key.lstrip("-").replace("_", "-")
            out.append(Piece(node, self.file.path, text=option))
            if expr is not None and not (isinstance(expr, cst.Name) and expr.value == "True"):
                out.append(Piece(expr, self.file.path, expr=expr, func=self.func))
        return out

    def _click(self, call: cst.Call, func: cst.Attribute, name: str) -> Seq:
        """``api(top-level kwargs).step(step kwargs)``: Metaflow's click API."""
        top: list[Piece] = []
        receiver = func.value
        if isinstance(receiver, cst.Name):
            assigned = [v for k, v in _local_calls(self.func).items() if k == receiver.value]
            receiver = assigned[0] if assigned else receiver
        if isinstance(receiver, cst.Call):
            top = self._kwargs(receiver)
        sub = Piece(func.attr, self.file.path, text=name)
        return Seq(top + [sub] + self._kwargs(call))

    def _kwargs(self, call: cst.Call) -> list[Piece]:
        out = []
        for a in call.args:
            if a.keyword is None or (isinstance(a.value, cst.Name) and a.value.value in ("False", "None")):
                continue
            out.append(Piece(a, self.file.path, text="--" + a.keyword.value.replace("_", "-")))
            if not (isinstance(a.value, cst.Name) and a.value.value == "True"):
                out.append(Piece(a.value, self.file.path, expr=a.value, func=self.func))
        return out


_SHELL_SEPARATORS = {"&&", "||", ";", "|", "&", ";;"}


def _separates(joiner: str) -> bool:
    return "\n" in joiner or any(s in joiner.split() for s in _SHELL_SEPARATORS)


def _unquote(token: str) -> str:
    """A shell word without its outer quotes (``'--run-id'``, ``"{run_id}"``)."""
    if token[:1] in ("'", '"'):
        token = token[1:]
    if token[-1:] in ("'", '"') and not token.endswith("\\" + token[-1:]):
        token = token[:-1]
    if token.startswith("--") and ("='" in token or '="' in token):
        name, _, value = token.partition("=")
        token = name + "=" + value[1:]  # --run-id="{run_id}"
    return token


def segments(pieces: list) -> list[list]:
    """The commands of a piece list, split at shell separators."""
    if not any(p.sep for p in pieces):
        return [pieces]
    out: list[list] = [[]]
    for p in pieces:
        if p.sep:
            out.append([])
        else:
            out[-1].append(p)
    return [seg for seg in out if seg]


def _is_value(seq: Seq) -> bool:
    return len(seq.pieces) == 1 and seq.pieces[0].text is None


def _value_expr(value: Value) -> cst.BaseExpression | None:
    if isinstance(value, Seq) and len(value.pieces) == 1:
        return value.pieces[0].expr
    return None


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return _dotted(node.value) + "." + node.attr.value
    return ""


def _local_calls(func: cst.FunctionDef) -> dict[str, cst.Call]:
    out = {}
    for stmt in func.body.body if isinstance(func.body, cst.IndentedBlock) else []:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                ):
                    if isinstance(small.value, cst.Call):
                        out[small.targets[0].target.value] = small.value
    return out


_TRIES = tuple(k for k in (getattr(cst, "Try", None), getattr(cst, "TryStar", None)) if k is not None)
_EXPANDS = re.compile(r"""["']--["']\s*\+|["']--%s|f["']--\{|["']--\{\}""")


# -- the project model ---------------------------------------------------------------------------


@dataclasses.dataclass
class Builder:
    """A function that assembles a ``step`` command, and the command."""

    file: FileContext
    function: cst.FunctionDef
    command: Command
    helpers: set  # id() of the helper functions inlined into it

    @property
    def anchor(self) -> Piece:
        return self.command.anchor


#: Function names too common to mark a caller of a command helper by the text alone.
_GENERIC = {"run", "main", "get", "build", "create", "execute", "call", "step", "init", "start"}


def _may_build(f: FileContext) -> bool:
    """The text of ``f`` can hold a command builder: it spells the task id option (``--task-id``
    or a dict key ``task-id``), or calls ``.step(``/``.init(`` with a ``task_id`` keyword (the
    click API). Other files are never parsed for the model (they may still be read as helpers)."""
    text = f.source
    if "task-id" in text or f.words.escaped:
        return True
    return "task_id" in text and (".step(" in text or ".init(" in text)


class CommandModel:
    """The task commands of one project, computed once and shared by every command rule."""

    def __init__(self, project: ProjectContext | None, files: Iterable[FileContext]) -> None:
        self.project = project
        self.files = [f for f in files if not f.is_test and not f.path.endswith("noxfile.py")]
        self._functions: dict[str, dict[str, list[cst.FunctionDef]]] = {}
        self._evaluated: dict[tuple[int, int], _Function | None] = {}
        self._builders: list[Builder] | None = None
        self._commands: list[Command] | None = None

    # functions by name
    def _defs(self, file: FileContext) -> dict[str, list[cst.FunctionDef]]:
        found = self._functions.get(file.path)
        if found is None:
            found = {}
            for func in file.nodes(cst.FunctionDef):
                found.setdefault(func.name.value, []).append(func)
            self._functions[file.path] = found
        return found

    def _resolve(self, file: FileContext, name: str, method: bool) -> tuple[FileContext, cst.FunctionDef] | None:
        local = self._defs(file).get(name)
        if local:
            return file, local[0]
        if method or self.project is None or name not in file.source:
            return None
        for imp in file.nodes(cst.ImportFrom):
            if imp.module is None or isinstance(imp.names, cst.ImportStar):
                continue
            for alias in imp.names:
                bound = alias.asname.name.value if alias.asname is not None else alias.name.value  # type: ignore[union-attr]
                if bound != name or not isinstance(alias.name, cst.Name):
                    continue
                dotted = "." * len(imp.relative) + _dotted(imp.module)
                other = self.project.resolve(dotted, file)
                if other is not None:
                    defs = self._defs(other).get(alias.name.value)
                    if defs:
                        return other, defs[0]
        return None

    def evaluate(self, file: FileContext, name: str, depth: int, method: bool = False) -> _Function | None:
        found = self._resolve(file, name, method)
        if found is None:
            return None
        return self._evaluate(found[0], found[1], depth)

    def _evaluate(self, file: FileContext, func: cst.FunctionDef, depth: int) -> _Function | None:
        key = (id(func), depth)
        if key not in self._evaluated:
            self._evaluated[key] = None  # recursion guard
            self._evaluated[key] = _Function(self, file, func, depth)
        return self._evaluated[key]

    def expands(self, file: FileContext, name: str, depth: int) -> bool:
        found = self._resolve(file, name, method=False)
        if found is None:
            return False
        other, func = found
        code = other.module.code_for_node(func) if len(other.source) < 200_000 else ""
        return bool(_EXPANDS.search(code))

    # queries
    def commands(self) -> list[Command]:
        """Every assembled ``step``/``init`` command, the longest per function and sub-command."""
        if self._commands is None:
            self._commands = []
            self._builders = []
            # Files that spell the task id, then (once) the files that call one of their
            # functions by name: a builder may take its options from a helper module.
            todo = [f for f in self.files if _may_build(f)]
            done: set[str] = set()
            for round_ in range(2):
                helpers: set[str] = set()
                for f in todo:
                    done.add(f.path)
                    for func in _candidates(f):
                        if not func.name.value.startswith("__"):
                            helpers.add(func.name.value)
                        self._commands_of(f, func)
                if round_ == 0 and helpers:
                    calls = tuple(n + "(" for n in helpers if n not in _GENERIC)
                    todo = [f for f in self.files if f.path not in done and any(c in f.source for c in calls)]
        return self._commands

    def _commands_of(self, f: FileContext, func: cst.FunctionDef) -> None:
        ev = self._evaluate(f, func, DEPTH)
        if ev is None:
            return
        best: dict[str, Command] = {}
        for seq in ev.candidates:
            for pieces in segments(seq.pieces):
                i = subcommand_index(pieces)
                if i is None:
                    continue
                cmd = Command(pieces, i, func, f.path)
                sub = cmd.subcommand
                if sub not in best or len(pieces) > len(best[sub].pieces):
                    best[sub] = cmd
        for sub, cmd in best.items():
            self._commands.append(cmd)  # type: ignore[union-attr]
            if sub == "step" and cmd.has_option("--run-id") and cmd.has_option("--task-id"):
                self._builders.append(Builder(f, func, cmd, ev.helpers))  # type: ignore[union-attr]

    def builders(self) -> list[Builder]:
        """The functions that assemble a ``step`` command and are not themselves a helper of
        another such function (the command is complete there)."""
        self.commands()
        assert self._builders is not None
        inner = set().union(*(b.helpers for b in self._builders)) if self._builders else set()
        return [b for b in self._builders if id(b.function) not in inner]

    def all_builders(self) -> list[Builder]:
        """Every function that assembles a ``step`` command, helpers of another one included."""
        self.commands()
        return list(self._builders or [])

    def passes(self, *options: str) -> bool:
        """Some command of the project passes one of ``options`` (in any shape)."""
        return any(c.has_option(*options) for c in self.commands())

    # -- what the code writes: pieces not (yet) assembled into a command -------------------------
    # A command piece may be written where the model cannot assemble the whole command: generated
    # code (``'"--retry-count"', '"0"'``), a list of options returned to a caller outside the
    # project, a template string. These queries answer from the assembled commands and from the
    # code strings of the project (:func:`mfx.analysis.orchestrator_command.code_strings`), each
    # written option once; rules never read the strings themselves.

    def option_values(self, option: str, files: Iterable[FileContext] | None = None) -> list[OptionValueAt]:
        """Every value given to ``option`` in the model's files (or ``files``): next to the option
        in a code string or list (``"--retry-count=%d" % n``, ``["--retry-count", n]``), and in
        the assembled commands (a value appended by another statement, returned by a helper,
        given as a dict entry or a click kwarg). Each written option counts once."""
        out: list[OptionValueAt] = []
        seen: set[int] = set()
        chosen = self.files if files is None else list(files)
        paths = {f.path for f in chosen}
        for f in chosen:
            if not _may_mention(f, (option,)):
                continue
            for use in code_strings(f).option_uses(option):
                if use.literal is None and use.expr is None:
                    continue  # the value is elsewhere: the assembled command may know it
                seen.add(id(use.fragment.node))
                out.append(
                    OptionValueAt(
                        f.path, use.fragment.node, use.literal, use.fragment.text, use.expr, use.fragment.function, use.word
                    )
                )
        for command in self.commands():
            if command.path not in paths and files is not None:
                continue
            for opt in command.options():
                if opt.option != option or id(opt.piece.node) in seen:
                    continue
                seen.add(id(opt.piece.node))
                value = opt.value
                expr = value.expr if value is not None else None
                if opt.literal is None and expr is None:
                    continue
                func = value.func if value is not None else None
                out.append(
                    OptionValueAt(opt.piece.path, opt.piece.node, opt.literal, opt.piece.text or "", expr, func, opt.piece.word)
                )
        return out

    def written_outside_commands(self, file: FileContext, option: str) -> bool:
        """``file`` writes ``option`` in a code string the model did not assemble into a command
        (it may still reach one: a command rule stays silent rather than guess)."""
        in_commands = self._piece_nodes()
        return any(id(u.fragment.node) not in in_commands for u in code_strings(file).option_uses(option))

    def _piece_nodes(self) -> set[int]:
        found = self.__dict__.get("_piece_ids")
        if found is None:
            found = self.__dict__["_piece_ids"] = {id(p.node) for c in self.commands() for p in c.pieces}
        return found

    def written(self, words: Iterable[str], every: bool = False) -> Iterator[tuple[FileContext, Fragment]]:
        """The code strings of the model's files (those whose text may spell ``words``: one, or
        ``every`` one of them), with their file: the command pieces as written, for a rule that
        asks whether some piece (a sub-command ``init``, an option built as ``"--" + name``, an
        ``export NAME=``) is written at all, assembled into a command or not."""
        words = tuple(words)
        for f in self.files:
            if words and not _may_mention(f, words, every):
                continue
            for frag in code_strings(f).fragments:
                yield f, frag

    def written_in(self, file: FileContext) -> list[Fragment]:
        """The code strings of one file: the pieces it writes, assembled into a command or not."""
        return code_strings(file).fragments

    def mentions(self, words: Iterable[str]) -> bool:
        """Some code string of the model's files mentions one of ``words`` (an option, an
        environment variable name), in a command or not."""
        words = list(words)
        for f in self.files:
            if not _may_mention(f, words):
                continue
            strings = code_strings(f)
            if any(strings.mentions(w) for w in words):
                return True
        return False

    def written_before_sub(self, option: str) -> list[tuple[str, cst.CSTNode, tuple[str, int] | None]]:
        """``option`` written before the sub-command (``step``/``init``) in one code string or
        one list display that the model may not have assembled (a file that never spells the
        task id, generated code): (path, node, word). A ``--tag`` right before ``step`` is a tag
        named step, not a sub-command. The assembled commands answer :meth:`Command.before_sub`."""
        out = []
        for f in self.files:
            if not _may_mention(f, (option,)):
                continue
            strings = code_strings(f)
            by_node = {id(fr.node): fr for fr in strings.fragments}
            for frag in strings.fragments:
                tokens = frag.text.split()
                opt_at = next((i for i, t in enumerate(tokens) if _is_option(t, option)), None)
                sub_at = next((i for i, t in enumerate(tokens) if t in SUBCOMMANDS), None)
                if opt_at is not None and sub_at is not None and opt_at + 1 < sub_at:
                    out.append((f.path, frag.node, (option, 0)))
            lists = {id(n): n for n in strings.parents.values() if isinstance(n, (cst.List, cst.Tuple))}
            for lst in lists.values():
                texts = []
                for el in lst.elements:
                    fr = by_node.get(id(el.value))
                    texts.append(fr.text.strip() if fr is not None else None)
                opt_at = next((i for i, t in enumerate(texts) if t is not None and _is_option(t, option)), None)
                sub_at = next((i for i, t in enumerate(texts) if t in SUBCOMMANDS), None)
                if opt_at is not None and sub_at is not None and opt_at + 1 < sub_at:
                    out.append((f.path, lst.elements[opt_at].value, None))
        return out

    def writers(self, subcommand: str, option: str) -> list[tuple[FileContext, Fragment]]:
        """The functions whose code strings write the sub-command token ``subcommand`` and the
        option ``option`` (``init`` with ``--task-id``), as (file, first sub-command token)."""
        out = []
        for f in self.files:
            if not _may_mention(f, (subcommand, option), True):
                continue
            strings = code_strings(f)
            for func in strings.functions():
                frags = strings.in_function(func)
                tokens = strings.tokens(subcommand, frags)
                if tokens and strings.option_uses(option, frags):
                    out.append((f, tokens[0]))
        return out


@dataclasses.dataclass
class OptionValueAt:
    """A value given to an option somewhere in the project (:meth:`CommandModel.option_values`)."""

    path: str
    node: cst.CSTNode  # the option as written (reported here)
    literal: str | None  # the value written in the same string ("--retry-count=0"), if any
    text: str  # that string
    expr: cst.BaseExpression | None  # the expression that gives the value, if any
    func: cst.FunctionDef | None  # the function ``expr`` is evaluated in
    word: tuple[str, int] | None = None  # the option's own word inside a multi-line string

    def report(self, message: str) -> Report:
        return Report(node=self.node, message=message, path=self.path, word=self.word)


def _is_option(token: str, option: str) -> bool:
    """``token`` starts with the option ``option`` (``--tag``, ``--tag=x``; not ``--tags``)."""
    return re.match(re.escape(option) + r"(?![\w-])", token) is not None


def _may_mention(f: FileContext, words: Iterable[str], every: bool = False) -> bool:
    """Whether a code string of ``f`` can contain one (``every``: each) of ``words``: a string
    value holds a word only if the file's text does, unless escape sequences may spell it."""
    found = f.words
    test = all if every else any
    return test(w.lower() in found.text for w in words) or found.escaped


def _candidates(f: FileContext) -> list[cst.FunctionDef]:
    """The functions of ``f`` that may assemble a command: a code string of theirs names a
    sub-command (``"step"``, ``"python flow.py init ..."``) or they call ``.step(...)``/
    ``.init(...)`` (the click API). Other functions are only evaluated as helpers of these."""
    out: dict[int, cst.FunctionDef] = {}
    strings = code_strings(f)
    for word in SUBCOMMANDS:
        for frag in strings.tokens(word):
            if frag.function is not None:
                out.setdefault(id(frag.function), frag.function)
    # the sub-command may come from a helper: the task id option (or dict key) is written here
    for frag in strings.mentions("--task-id") + [x for x in strings.fragments if x.text.strip() == "task-id"]:
        if frag.function is not None:
            out.setdefault(id(frag.function), frag.function)
    if ".step(" in f.source or ".init(" in f.source:
        for attr in f.nodes(cst.Attribute):
            if attr.attr.value in SUBCOMMANDS:
                node = f.parent_of(attr)
                while node is not None and type(node) is not cst.FunctionDef:
                    node = f.parent_of(node)
                if node is not None:
                    out.setdefault(id(node), node)  # type: ignore[arg-type]
    return list(out.values())


def file_model(file: FileContext) -> CommandModel:
    """The command model of one file (for a file rule; helpers are followed within the file),
    kept on the file context."""
    return file.cached(file_model, lambda: CommandModel(None, [file]))


def model_of(project: ProjectContext) -> CommandModel:
    """The command model of ``project`` (kept on the project, shared by all rules of a run)."""
    return project.cached(model_of, lambda: CommandModel(project, project))
