"""Shell commands held by workflow documents, templates and string constants feed the command model.

Orchestrators that compile a flow into the engine's own document write the Metaflow task command
as shell text or an argument list there, not as Python: a YAML workflow (``script: |``,
``run: |``, ``command: [python, flow.py]`` with ``args: [step, start, --run-id, ...]``), a JSON
task spec (``"args": [...]``, ``"script": "..."``), a Jinja/mustache shell template
(``task.sh.j2``), a shell script, or a module-level Python string constant holding the script
(``STEP_SCRIPT = \"\"\"python {flow} --quiet step {step} --run-id {run_id} \\ ...\"\"\"``).

:func:`find_shell` finds the Metaflow task commands in such a file (:mod:`mfx.analysis.shell`:
``shlex``-level, placeholders kept whole, continuations, ``&&``/``;`` chains, ``bash -c``
bodies, heredocs) and writes them as one *virtual module* (``<host>::shell.py``): one function
per command returning the command's words as a list display, every word on a line of its own.
That is the shape the command model (:mod:`mfx.analysis.command_model`) already follows, so every
command rule reports on these commands as on Python ones; :meth:`ShellEmbedded.to_host` moves a
finding back to the word's line and column in the host file. The virtual module also names the
environment variables and options the carrier spells elsewhere (an ``env:`` block, an
``export``), so the project-wide "never set" rules see them.

Suppressions: a ``# noqa: MFXnnn`` comment on a host line suppresses those codes for the words
on that line. YAML and shell (templates, ``*.sh``): a real ``#`` comment (in a ``script: |`` block
that is also a shell comment). JSON has no comments: a ``# noqa: MFXnnn`` written *inside a string*
on the line (a shell comment at the end of a ``script`` string, or a member such as
``"$comment": "# noqa: MFX201"`` on the same line) or a ``// noqa: MFXnnn`` comment (JSONC) counts.
Python constants: the host's own ``# noqa`` after the string (as for any multi-line string) or a
shell comment inside the script line. ``# mfx: noqa`` anywhere suppresses for the whole file.

Not carriers: Markdown and other documentation (never read), files under ``docs/`` and
``.github/`` (the repository's own CI, read by the project-file rules), and lines that are no
Metaflow task command (``python setup.py step``, ``kubectl ...``: see
:func:`mfx.analysis.shell.task_command`). Files that do not spell ``--run-id``/``--task-id`` and
``step``/``init`` are never parsed.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import json
import re
from typing import TYPE_CHECKING, Optional

from mfx.analysis import shell
from mfx.engine.diagnostic import Diagnostic
from mfx.engine.embedded import SEP, Embedded
from mfx.engine.noqa import NoqaMap, add_comment

if TYPE_CHECKING:
    from mfx.applicability import FileWords

#: Files read as workflow documents or shell text (templates: :data:`mfx.engine.embedded.TEMPLATE_SUFFIXES`).
SHELL_SUFFIXES = (".yaml", ".yml", ".json", ".sh", ".bash")
#: Directory names whose files are documentation or the repository's own CI, never carriers.
_NOT_CARRIER_DIRS = {"docs", "doc", ".github", "node_modules", ".git"}
_ENV_WORD = re.compile(r"(?<![\w-])(?:[A-Z][A-Z0-9]*_[A-Z0-9_]+|--[a-z][a-z0-9-]*[a-z0-9])(?![\w-])")
_SHELL_NOQA = re.compile(r"(?:^|[\s;\"'])((?:#|//)\s*(?:mfx\s*:\s*)?noqa\b.*)$", re.I)
_MAX_WORDS = 300
_ARGS_KEYS = ("args", "arguments")
_PROGRAM_KEYS = ("command", "entrypoint", "cmd")


def is_shell_carrier(relpath: str) -> bool:
    """A YAML/JSON/shell file that may hold task commands (documentation and CI excluded)."""
    name = relpath.rsplit("/", 1)[-1].lower()
    if not name.endswith(SHELL_SUFFIXES):
        return False
    return not any(part in _NOT_CARRIER_DIRS for part in relpath.split("/")[:-1])


def _may_hold(text: str, words: "FileWords | None" = None) -> bool:
    """The words every task command spells (the applicability gate of this finder); ``words``:
    the file's shared searches (:func:`mfx.applicability.file_words`), when ``text`` is a file."""
    has = text.__contains__ if words is None else words.mentions
    return (has("--run-id") or has("--task-id")) and (has("step") or has("init"))


@dataclasses.dataclass(frozen=True)
class ShellEmbedded(Embedded):
    """The virtual module of a host's shell commands; ``lines[i]`` is the host (line, column,
    end column) of virtual line ``i + 1`` (None: the line before it is used)."""

    lines: tuple = ()

    def _host(self, line: int, end: bool) -> tuple[int, int]:
        i = min(max(line, 1), len(self.lines)) - 1
        while i > 0 and self.lines[i] is None:
            i -= 1
        pos = self.lines[i] if self.lines and self.lines[i] is not None else (1, 1, 1)
        return (pos[0], pos[2]) if end else (pos[0], pos[1])

    def to_host(self, d: Diagnostic) -> Diagnostic:
        line, column = self._host(d.line, False)
        end_line, end_column = self._host(d.end_line, True)
        if (end_line, end_column) < (line, column):
            end_line, end_column = line, column
        return dataclasses.replace(
            d, path=self.host, line=line, column=column, end_line=end_line, end_column=end_column, fix=None
        )


class _Host:
    """Offsets of a host text to (line, column), 1-based."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1

    def offset(self, line0: int, column0: int) -> int:
        return self.starts[min(line0, len(self.starts) - 1)] + column0


class _Mapper:
    """Offsets of a string value to offsets of the host text that writes it in ``[start, end)``
    (quotes, indentation, folding and escapes may differ): every word of the value is searched,
    in order, in the host region; an offset maps through the nearest word at or before it."""

    def __init__(self, host: _Host, start: int, end: int, value: str) -> None:
        self.anchors: list = [(0, start)]
        cursor = start
        parsed = shell.parse(value)
        for w in sorted([*(w for c in parsed.commands for w in c), *parsed.comments], key=lambda w: w.start):
            spelled = value[w.start : w.end] if isinstance(w, shell.Word) else w.text
            found = host.text.find(spelled, cursor, end) if spelled else -1
            if found >= 0:
                self.anchors.append((w.start, found))
                cursor = found + len(spelled)
        self.keys = [a[0] for a in self.anchors]

    def __call__(self, offset: int) -> int:
        i = bisect.bisect_right(self.keys, offset) - 1
        value_at, host_at = self.anchors[max(i, 0)]
        return host_at + (offset - value_at)


def _locate(host: _Host, start: int, end: int, value: str, commands: list) -> list:
    """Commands of words of ``value`` (offsets into it) as words of the host (offsets into its text)."""
    where = _Mapper(host, start, end, value)
    return [[shell.Word(w.text, where(w.start), where(w.start) + (w.end - w.start)) for w in c] for c in commands]


# -- structured documents: one node shape for YAML and JSON -------------------------------------


@dataclasses.dataclass
class _Node:
    kind: str  # "scalar" | "seq" | "map"
    value: object  # str | list[_Node] | list[tuple[str, _Node]]
    start: int
    end: int


def _yaml_nodes(host: _Host) -> Optional[list]:
    from mfx.projectfiles import yaml_doc

    try:
        docs = yaml_doc.parse(host.text)
    except (yaml_doc.YamlError, RecursionError):
        return None

    def convert(node, depth: int = 0) -> Optional[_Node]:
        if depth > 200:
            return None
        start = host.offset(node.start_mark.line, node.start_mark.column)
        end = host.offset(node.end_mark.line, node.end_mark.column)
        kind = type(node).__name__
        if kind == "ScalarNode":
            return _Node("scalar", node.value if isinstance(node.value, str) else "", start, end)
        if kind == "SequenceNode":
            return _Node("seq", [c for c in (convert(x, depth + 1) for x in node.value) if c is not None], start, end)
        if kind == "MappingNode":
            items = []
            for k, v in node.value:
                cv = convert(v, depth + 1)
                if cv is not None:
                    items.append((k.value if isinstance(k.value, str) else "", cv))
            return _Node("map", items, start, end)
        return None

    return [n for n in (convert(d) for d in docs) if n is not None]


class _JsonError(Exception):
    pass


class _Json:
    """A JSON (and JSONC: comments, trailing commas) reader that keeps every value's offsets."""

    def __init__(self, text: str) -> None:
        self.text, self.i = text, 0

    def ws(self) -> None:
        t, n = self.text, len(self.text)
        while self.i < n:
            c = t[self.i]
            if c in " \t\r\n\ufeff":
                self.i += 1
            elif t.startswith("//", self.i):
                j = t.find("\n", self.i)
                self.i = n if j < 0 else j
            elif t.startswith("/*", self.i):
                j = t.find("*/", self.i + 2)
                self.i = n if j < 0 else j + 2
            else:
                return

    def value(self, depth: int = 0) -> _Node:
        if depth > 200:
            raise _JsonError("too deep")
        self.ws()
        t, start = self.text, self.i
        if start >= len(t):
            raise _JsonError("end")
        c = t[start]
        if c == "{":
            self.i += 1
            items = []
            while True:
                self.ws()
                if self.i < len(t) and t[self.i] == "}":
                    self.i += 1
                    return _Node("map", items, start, self.i)
                key = self.value(depth + 1)
                if key.kind != "scalar":
                    raise _JsonError("key")
                self.ws()
                if self.i >= len(t) or t[self.i] != ":":
                    raise _JsonError("colon")
                self.i += 1
                items.append((key.value, self.value(depth + 1)))
                self.ws()
                if self.i < len(t) and t[self.i] == ",":
                    self.i += 1
        if c == "[":
            self.i += 1
            items = []
            while True:
                self.ws()
                if self.i < len(t) and t[self.i] == "]":
                    self.i += 1
                    return _Node("seq", items, start, self.i)
                items.append(self.value(depth + 1))
                self.ws()
                if self.i < len(t) and t[self.i] == ",":
                    self.i += 1
        if c == '"':
            j = start + 1
            while j < len(t) and t[j] != '"':
                j += 2 if t[j] == "\\" else 1
            if j >= len(t):
                raise _JsonError("string")
            self.i = j + 1
            try:
                text = json.loads(t[start : self.i])
            except ValueError as exc:
                raise _JsonError("string") from exc
            return _Node("scalar", text, start, self.i)
        m = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null").match(t, start)
        if m is None:
            raise _JsonError("value")
        self.i = m.end()
        return _Node("scalar", None, start, self.i)


def _json_nodes(host: _Host) -> Optional[list]:
    reader = _Json(host.text)
    try:
        node = reader.value()
    except (_JsonError, RecursionError):
        return None
    return [node]


def _scalar_commands(host: _Host, node: _Node) -> list:
    value = node.value
    if not isinstance(value, str) or not _may_hold(value):
        return []
    return _locate(host, node.start, node.end, value, shell.task_commands(value))


def _argv_words(host: _Host, node: _Node) -> list:
    """The words of an argument list (or a one-string program) as host words."""
    items = node.value if node.kind == "seq" else [node] if node.kind == "scalar" else []
    out = []
    for item in items:  # type: ignore[union-attr]
        if item.kind != "scalar" or not isinstance(item.value, str):
            continue
        commands = shell.parse(item.value).commands
        if len(commands) > 1 or (commands and len(commands[0]) > 1):
            return None  # an element of several words: prose or a script, no argument list
        for words in _locate(host, item.start, item.end, item.value, commands):
            out.extend(words)
    return out


def _document_commands(host: _Host, roots: list) -> list:
    out: list = []

    def visit(node: _Node, program: Optional[_Node] = None) -> None:
        if node.kind == "scalar":
            out.extend(_scalar_commands(host, node))
        elif node.kind == "map":
            items = node.value  # type: ignore[assignment]
            prog = next((v for k, v in items if k in _PROGRAM_KEYS), None)  # type: ignore[union-attr]
            for key, child in items:  # type: ignore[union-attr]
                visit(child, prog if key in _ARGS_KEYS else None)
        elif node.kind == "seq":
            items = node.value  # type: ignore[assignment]
            if items and all(i.kind == "scalar" for i in items):  # type: ignore[union-attr]
                each = [c for i in items for c in _scalar_commands(host, i)]  # type: ignore[union-attr]
                if each:  # a list of scripts (Kestra's ``commands``, ``[bash, -c, "..."]``)
                    out.extend(each)
                    return
                prefix = _argv_words(host, program) if program is not None else []
                words = _argv_words(host, node)
                if words is None:
                    return
                found = shell.task_command((prefix or []) + words, implied_program=True)
                if found is not None:
                    out.append(found)
            else:
                for i in items:  # type: ignore[union-attr]
                    visit(i)

    for root in roots:
        visit(root)
    return out


# -- Python hosts: module-level string constants -------------------------------------------------


def is_shell_constant(value: str) -> bool:
    """A string value outside any function that this module reads as shell text: it holds a task
    command and is not itself a module of Python (:func:`mfx.engine.embedded.holds_code`). The
    string analyses of the host leave it to the virtual module, so nothing is reported twice."""
    from mfx.engine.embedded import holds_code

    return shell.has_task_command(value) and not holds_code(value)


def _outside_functions(text: str) -> bool:
    """Whether some ``--run-id``/``--task-id`` of a Python module may be outside every function,
    checked without a parse: walking up from its line, the first line indented less than the
    lines seen so far is not a ``def`` (blank lines and comments aside). A necessary condition
    for :func:`_python_commands` to find anything; a string's own lines at a lower indentation
    only make it answer True."""
    for option in shell.TASK_OPTIONS:
        start = 0
        while True:
            at = text.find(option, start)
            if at < 0:
                break
            start = at + len(option)
            line_start = text.rfind("\n", 0, at) + 1
            line = text[line_start:at]
            indent = len(line) - len(line.lstrip(" \t"))
            while indent > 0 and line_start > 0:
                line_start = text.rfind("\n", 0, line_start - 1) + 1
                line = text[line_start : text.find("\n", line_start) if text.find("\n", line_start) >= 0 else len(text)]
                body = line.lstrip(" \t")
                if not body or body.startswith("#"):
                    continue
                depth = len(line) - len(body)
                if depth < indent:
                    if body.startswith(("def ", "async def ")):
                        break
                    indent = depth
            else:
                if not _decorates_function(text, line_start):
                    return True
    return False


def _decorates_function(text: str, line_start: int) -> bool:
    """The column-0 line at ``line_start`` is a decorator (or its continuation) of a ``def``."""
    if text[line_start : line_start + 1] != "@":
        return False
    for line in text[line_start:].split("\n")[1:]:
        if line[:1] in ("", " ", "\t", "@", ")", "]", "}", "#"):
            continue
        return line.startswith(("def ", "async def "))
    return False


def _python_commands(host: _Host) -> tuple[list, list]:
    """Commands in string constants outside functions (the command model reads the ones inside
    functions itself), and the (start, end) regions of those constants."""
    try:
        tree = ast.parse(host.text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return [], []
    lines = host.text.split("\n")

    def offset(lineno: int, col: int) -> int:
        line = lines[lineno - 1] if lineno - 1 < len(lines) else ""
        chars = len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))
        return host.starts[lineno - 1] + chars

    out, regions = [], []
    stack: list = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.JoinedStr)):
                continue  # functions: the command model reads them; f-strings: the string analysis
            if isinstance(child, ast.Expr) and isinstance(child.value, ast.Constant):
                continue  # a docstring or bare string statement
            if isinstance(child, ast.Constant) and isinstance(child.value, str):
                if is_shell_constant(child.value) and child.end_lineno is not None:
                    start = offset(child.lineno, child.col_offset)
                    end = offset(child.end_lineno, child.end_col_offset or 0)
                    regions.append((start, end))
                    out.extend(_locate(host, start, end, child.value, shell.task_commands(child.value)))
                continue
            stack.append(child)
    return out, regions


# -- the virtual module ---------------------------------------------------------------------------


def _noqa(host: _Host, relpath: str) -> NoqaMap:
    name = relpath.lower()
    if name.endswith(".py"):
        from mfx.engine.noqa import parse_noqa

        found = parse_noqa(host.text)
    elif name.endswith((".yaml", ".yml")):
        from mfx.projectfiles.noqa import parse_noqa as parse_file_noqa

        found = parse_file_noqa(host.text, "yaml")
    else:
        found = NoqaMap()
    return found


def _line_noqa(base: NoqaMap, host: _Host, row: int) -> tuple[bool, object]:
    """(suppressed at all, codes or None for every code) for host line ``row``: the host's own
    comments, else a shell (or JSONC) comment on that line."""
    key = base.noqa_row(row)
    if key in base.lines:
        return True, base.lines[key]
    text = host.text[host.starts[row - 1] : host.starts[row] - 1 if row < len(host.starts) else len(host.text)]
    m = _SHELL_NOQA.search(text)
    if m:
        probe = NoqaMap()
        add_comment(probe, 1, "#" + m.group(1).lstrip("#/"))
        if 1 in probe.lines:
            return True, probe.lines[1]
    return False, None


def _file_noqa(base: NoqaMap, host: _Host) -> str:
    if base.file_all or re.search(r"(?:#|//)\s*mfx\s*:\s*noqa(?!\s*:)", host.text, re.I):
        return "# mfx: noqa\n"
    codes = set(base.file_codes)
    for m in re.finditer(r"(?:#|//)\s*mfx\s*:\s*noqa\s*:\s*([A-Za-z0-9_, ]+)", host.text, re.I):
        codes |= {c.upper() for c in re.findall(r"[A-Za-z]+[0-9]+", m.group(1))}
    return f"# mfx: noqa: {', '.join(sorted(codes))}\n" if codes else ""


def _module(relpath: str, host: _Host, commands: list, words_from: list) -> Optional[ShellEmbedded]:
    if not commands:
        return None
    base = _noqa(host, relpath)
    header = "# Shell commands held by the host file, one function each (mfx.engine.shellcode).\n"
    text = [header + _file_noqa(base, host)]
    first = host.position(commands[0][0].start)
    lines: list = [(first[0], first[1], first[1])] * text[0].count("\n")

    def emit(code: str, word: shell.Word) -> None:
        line, column = host.position(word.start)
        end_line, end_column = host.position(max(word.start, word.end - 1))
        suppressed, codes = _line_noqa(base, host, line)
        comment = ("  # noqa" + (f": {', '.join(sorted(codes))}" if codes else "")) if suppressed else ""  # type: ignore[arg-type]
        text.append(code + comment + "\n")
        lines.append((line, column, end_column + 1 if end_line == line else column + 1))

    for k, words in enumerate(commands, 1):
        emit(f"def shell_command_{k}():", words[0])
        emit("    return [", words[0])
        for w in words:
            emit(f"        {w.text!r},", w)
        emit("    ]", words[-1])
    seen: set = set()
    for start, end in words_from:
        for m in _ENV_WORD.finditer(host.text, start, end):
            if m.group(0) not in seen and len(seen) < _MAX_WORDS:
                seen.add(m.group(0))
                emit(f"SHELL_WORD_{len(seen)} = {m.group(0)!r}", shell.Word(m.group(0), m.start(), m.end()))
    return ShellEmbedded(relpath, "shell", "".join(text), 1, 1, 0, tuple(lines))


def find_shell(relpath: str, text: str) -> list[ShellEmbedded]:
    """The virtual module of the task commands ``text`` holds (at most one), or []."""
    from mfx.applicability import file_words
    from mfx.engine.embedded import is_code_template

    # A Python module's words are searched again by the rules' pre-checks: share the searches.
    words = file_words(text, relpath) if relpath.endswith(".py") else None
    if "\0" in text or SEP in relpath or not _may_hold(text, words):
        return []
    name = relpath.lower()
    host = _Host(text)
    regions = [(0, len(text))]
    if name.endswith(".py"):
        if not _outside_functions(text):
            return []
        commands, regions = _python_commands(host)
    elif is_shell_carrier(relpath) or is_code_template(relpath):
        if any(part in _NOT_CARRIER_DIRS for part in relpath.split("/")[:-1]):
            return []
        stem = re.sub(r"\.(j2|jinja2?|tpl|tmpl|template|mustache|in)$", "", name)
        roots = None
        doc = host if stem == name else _Host(_neutral(text))  # the same offsets as the host
        if stem.endswith((".yaml", ".yml")):
            roots = _yaml_nodes(doc)
        elif stem.endswith(".json"):
            roots = _json_nodes(doc)
        if roots is not None:
            commands = _document_commands(doc, roots)
            commands = [[shell.Word(_original(text, w), w.start, w.end) for w in c] for c in commands]
        else:  # shell text (a script, a shell template, a document that does not parse)
            commands = [c for c in shell.task_commands(text)]
    else:
        return []
    piece = _module(relpath, host, commands, regions)
    return [piece] if piece is not None else []


_TEMPLATE_EXPR = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def _neutral(text: str) -> str:
    """Template placeholders replaced by letters of the same length (statements by blanks), so
    that a YAML/JSON template parses; positions are kept."""

    def repl(m: "re.Match[str]") -> str:
        s = m.group(0)
        if s.startswith("{{") and s[2:3] not in "#^/!>" and "\n" not in s:
            return "x" * len(s)
        return re.sub(r"[^\n]", " ", s)

    return _TEMPLATE_EXPR.sub(repl, text)


def _original(text: str, w: shell.Word) -> str:
    """A word's value with the placeholders its host spelling holds (a template was parsed
    neutralized): the spelling itself when it is a bare word."""
    spelled = text[w.start : w.end]
    if "{{" in spelled and not any(c in spelled for c in " \"'\\"):
        return spelled
    if "{{" in spelled:
        return re.sub(r"\s+", "", spelled.strip("\"'"))
    return w.text
