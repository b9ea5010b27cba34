"""Generated code is code: Python held in string constants and in code-template files.

Most published orchestrators write their worker or DAG module from a template: Python in a
module-level string (later ``.format()``-ed, ``%``-formatted, a ``string.Template``, dedented) or
in a template file shipped with the package (``worker.py.tpl``, ``dag.py.j2``, ``*.mustache``).
The task-command rules must see that code as they see any other module.

:func:`find_embedded` returns, for one file, the pieces of Python it holds. A piece is kept only
when it parses (CPython's own parser, cheap) once its placeholders are replaced by neutral names
of the same length, so every position inside it maps back to the host file one to one. Each
piece becomes a *virtual module* (``<host>::<label>.py``) that every rule, file and project rules
alike, reads as part of the project; :meth:`Embedded.to_host` moves a diagnostic back to the line
and column inside the string or template file. ``# noqa`` comments inside the piece work there,
because suppressions are applied to the virtual module's own text.

What is not taken for code: docstrings and other bare string statements, one-line strings, text
that does not parse under any placeholder convention (a Jinja template of HTML, a shell script).
"""

from __future__ import annotations

import ast
import dataclasses
import re
import textwrap
import warnings
from typing import Callable, Iterator, Optional

from mfx.engine.diagnostic import Diagnostic

#: Template files whose content may be Python (a file of another language simply does not parse).
TEMPLATE_SUFFIXES = (
    ".py.tpl",
    ".py.tmpl",
    ".py.template",
    ".py.j2",
    ".py.jinja",
    ".py.jinja2",
    ".py.mustache",
    ".py.in",
    ".tpl",
    ".tmpl",
    ".j2",
    ".jinja",
    ".jinja2",
    ".mustache",
)

#: The separator between a host path and the label of a piece of code it holds.
SEP = "::"

# A string literal opening with three quotes; its end is found by _literal_end.
_TRIPLE = re.compile(r"""(?<![\w'"])([rRbBuUfF]{0,2})(\"\"\"|''')""")
# Cheap evidence that a string holds Python statements (and is worth a parse).
_CODE_HINT = re.compile(r"^[ \t]*(?:def |class |import |from \S+ import |if __name__)", re.M)
# What must precede a literal for it to be a value (assigned, passed, returned, concatenated).
_VALUE_BEFORE = re.compile(r"(?:[=(,\[+:]|\breturn|\byield|\blambda[^:]*:)\s*$")
_ASSIGNED_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]*)?=\s*(?:[\w.]+\()?\s*$")

# Placeholder conventions, each replaced by an identifier (or blanks) of the same length.
_JINJA_EXPR = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)?.*?-?\}\}", re.S)
_JINJA_STMT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
_MUSTACHE_SECTION = re.compile(r"\{\{[#^/!>][^}]*\}\}")
_FORMAT_FIELD = re.compile(
    r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*|\d*)((?:\.[A-Za-z_]\w*|\[[^\]]*\])*)(![rsa])?(:[^{}]*)?\}"
)
_PERCENT = re.compile(
    r"%%|%\(([A-Za-z_][A-Za-z0-9_]*)\)[-#0 +]*\d*(?:\.\d+)?[sdirfgexXoc]|%[-#0 +]*\d*(?:\.\d+)?[sdirfgexXoc]"
)
_DOLLAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def is_code_template(relpath: str) -> bool:
    """A non-Python file :func:`find_embedded` reads: a template that may hold Python with
    placeholders (its suffix says template), or a workflow document / shell script that may hold
    task commands (:func:`mfx.engine.shellcode.is_shell_carrier`)."""
    name = relpath.rsplit("/", 1)[-1].lower()
    if name.endswith(TEMPLATE_SUFFIXES):
        return True
    from mfx.engine.shellcode import is_shell_carrier

    return is_shell_carrier(relpath)


def is_virtual(relpath: str) -> bool:
    return SEP in relpath


def _name_of(length: int, name: Optional[str]) -> str:
    """An identifier of exactly ``length`` characters, keeping ``name`` where it fits."""
    base = "_" + (name or "")
    return (base + "_" * length)[:length] if length > 1 else "_"


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _jinja(text: str) -> str:
    text = _MUSTACHE_SECTION.sub(lambda m: " " * len(m.group(0)), text)
    text = _JINJA_STMT.sub(lambda m: _blank(m.group(0)), text)
    return _JINJA_EXPR.sub(
        lambda m: _name_of(len(m.group(0)), m.group(1)) if "\n" not in m.group(0) else _blank(m.group(0)), text
    )


def _format(text: str) -> str:
    def field(m: "re.Match[str]") -> str:
        whole = m.group(0)
        if whole == "{{":
            return "{ "
        if whole == "}}":
            return " }"
        return _name_of(len(whole), m.group(1) if m.group(1) and not m.group(1).isdigit() else None)

    return _FORMAT_FIELD.sub(field, text)


def _percent(text: str) -> str:
    return _PERCENT.sub(lambda m: "% " if m.group(0) == "%%" else _name_of(len(m.group(0)), m.group(1)), text)


def _dollar(text: str) -> str:
    return _DOLLAR.sub(
        lambda m: "$ " if m.group(0) == "$$" else _name_of(len(m.group(0)), m.group(1) or m.group(2)), text
    )


#: In the order tried: the text as it is, then each placeholder convention that changes it.
NEUTRALIZERS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("plain", lambda t: t),
    ("jinja", _jinja),
    ("format", _format),
    ("percent", _percent),
    ("template", _dollar),
)


def _parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in template text are not our finding
            ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _order(text: str, template_file: bool) -> tuple[str, ...]:
    if template_file:  # a template file's braces are the template's
        return ("jinja", "format", "percent", "template", "plain")
    if "{{" in text or "}}" in text:  # doubled braces: a .format() template (its braces are literal)
        return ("format", "jinja", "plain", "percent", "template")
    return ("plain", "format", "percent", "template", "jinja")


_LONE_NAME = re.compile(r"[ \t]*_\w+[ \t]*")


def _as_items(text: str, candidate: str) -> str:
    """A placeholder alone on its line stands for whole lines of code: in a list, a call or a
    tuple they are items with their own trailing comma (``{tag_args}`` before ``]``), in a block
    they are statements. ``_name,`` is valid in both places; only that line's columns move."""
    lines = candidate.split("\n")
    for i, (before, after) in enumerate(zip(text.split("\n"), lines)):
        if before != after and _LONE_NAME.fullmatch(after):
            # the inserted lines carry their own indentation: take the next code line's
            following = next((line for line in lines[i + 1 :] if line.strip()), after)
            indent = following[: len(following) - len(following.lstrip())]
            lines[i] = indent + after.strip()[:-1] + ","
    return "\n".join(lines)


def as_python(text: str, template_file: bool = False) -> Optional[str]:
    """``text`` with its placeholders neutralized so that it parses, or None. Lengths and line
    breaks are kept: a position in the result is the same position in ``text``."""
    neutralizers = dict(NEUTRALIZERS)
    for name in _order(text, template_file):
        candidate = neutralizers[name](text)
        if name != "plain" and candidate == text:
            continue
        if _parses(candidate):
            return candidate
        items = _as_items(text, candidate)
        if items != candidate and _parses(items):
            return items
    return None


@dataclasses.dataclass(frozen=True)
class Embedded:
    """One piece of Python inside a host file."""

    host: str  # relative path of the file that holds it
    label: str  # the constant's name, or L<line>, or "template"
    text: str  # the piece, placeholders neutralized, positions preserved
    line: int  # host line (1-based) of the piece's first line
    column: int  # host column (1-based) of the piece's first character
    indent: int = 0  # columns removed from every line after the first (a dedented string)

    @property
    def path(self) -> str:
        return f"{self.host}{SEP}{self.label}.py"

    def _position(self, line: int, column: int) -> tuple[int, int]:
        if line <= 1:
            return self.line, self.column + column - 1
        return self.line + line - 1, column + self.indent

    def to_host(self, d: Diagnostic) -> Diagnostic:
        """The diagnostic at its place in the host file (a fix is dropped: it edits the piece)."""
        line, column = self._position(d.line, d.column)
        end_line, end_column = self._position(d.end_line, d.end_column)
        message = d.message if self.label == "template" else f"{d.message} (in the code held by {self.label})"
        return dataclasses.replace(
            d,
            path=self.host,
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            message=message,
            fix=None,
        )


def _literal_end(text: str, start: int, quote: str, raw: bool) -> int:
    """Index just past the closing ``quote`` of a literal whose body starts at ``start``; -1 if none."""
    i, n = start, len(text)
    while i < n:
        j = text.find(quote, i)
        k = text.find("\\", i) if not raw else -1
        if j < 0:
            return -1
        if 0 <= k < j:
            i = k + 2  # an escaped character (a raw string still cannot end on \")
            continue
        if raw and j > start and text[j - 1] == "\\":
            i = j + 1
            continue
        return j + len(quote)
    return -1


def _is_value(text: str, at: int) -> bool:
    """Whether the literal starting at ``at`` is a value (not a docstring or bare statement)."""
    line_start = text.rfind("\n", 0, at) + 1
    before = text[line_start:at]
    if before.strip():
        return bool(_VALUE_BEFORE.search(before))
    prev_end = line_start - 1
    while prev_end > 0:
        prev_start = text.rfind("\n", 0, prev_end) + 1
        prev = text[prev_start:prev_end].split("#", 1)[0].rstrip()
        if prev:
            return prev.endswith(("(", ",", "[", "=", "+", "\\")) and not prev.endswith("==")
        prev_end = prev_start - 1
    return False


def _label(text: str, at: int, line: int) -> str:
    line_start = text.rfind("\n", 0, at) + 1
    before = text[line_start:at]
    if not before.strip():  # the literal opens a line: the assignment is on the line above
        prev_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
        before = text[prev_start : max(prev_start, line_start - 1)]
    m = _ASSIGNED_NAME.search(before)
    return m.group(1) if m else f"L{line}"


def _pieces_in_python(relpath: str, text: str) -> Iterator[Embedded]:
    pos = 0
    while True:
        m = _TRIPLE.search(text, pos)
        if m is None:
            return
        prefix, quote = m.group(1).lower(), m.group(2)
        body_start = m.end()
        end = _literal_end(text, body_start, quote, "r" in prefix)
        if end < 0:
            return
        pos = end
        if "b" in prefix or not _is_value(text, m.start()):
            continue
        body = text[body_start : end - len(quote)]
        if "\n" not in body.strip() or not _CODE_HINT.search(body):
            continue
        line = text.count("\n", 0, body_start) + 1
        column = body_start - (text.rfind("\n", 0, body_start) + 1) + 1
        indent = 0
        code = as_python(body)
        if code is None:  # an indented string (textwrap.dedent): drop the common indentation
            first, newline, rest = body.partition("\n")
            dedented = textwrap.dedent(rest)
            if newline and dedented != rest and not first.strip("\\ \t"):
                indent = _common_indent(rest)
                code = as_python(" " * len(first) + "\n" + dedented)
        if code is None:
            continue
        yield Embedded(relpath, _label(text, m.start(), line), code, line, column, indent)


def holds_code(value: str) -> bool:
    """Whether a string value is a piece of Python :func:`find_embedded` lints as a module of its
    own (string analyses of the host leave it to that module, so nothing is reported twice)."""
    if "\n" not in value.strip() or not _CODE_HINT.search(value):
        return False
    if as_python(value) is not None:
        return True
    first, newline, rest = value.partition("\n")
    if newline and not first.strip("\\ \t") and as_python(textwrap.dedent(rest)) is not None:
        return True
    return as_python(textwrap.dedent(value)) is not None  # a backslash-newline after the quotes


def _common_indent(text: str) -> int:
    widths = [len(ln) - len(ln.lstrip(" \t")) for ln in text.splitlines() if ln.strip()]
    return min(widths) if widths else 0


def find_embedded(relpath: str, text: str) -> list[Embedded]:
    """The pieces of code ``text`` holds: the whole file for a code template, the string
    constants that are code for a Python module; and the module of the Metaflow task commands
    it holds as shell text or argument lists (:mod:`mfx.engine.shellcode`)."""
    from mfx.applicability import file_words
    from mfx.engine.shellcode import find_shell

    if "\0" in text:
        return []
    shell = list(find_shell(relpath, text))
    if is_code_template(relpath):
        if not relpath.lower().endswith(TEMPLATE_SUFFIXES) or not _CODE_HINT.search(text):
            return shell
        code = as_python(text, template_file=True)
        return [Embedded(relpath, "template", code, 1, 1)] if code is not None else shell
    words = file_words(text, relpath)  # shared with the rules' pre-checks (mfx.applicability)
    if not relpath.endswith(".py") or not (words.mentions('"""') or words.mentions("'''")):
        return shell
    return list(_pieces_in_python(relpath, text)) + shell
