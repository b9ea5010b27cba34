"""Shell command text at the level of ``shlex``, tolerant of template placeholders.

Orchestrators that ship a workflow document (an Argo/Kestra/Windmill/GitHub-Actions style YAML,
a JSON task spec, a Jinja or mustache shell template, a heredoc in a Python string) write the
Metaflow task command as shell text: ``python {{flow}} --quiet step {{step}} --run-id {{run_id}}
--task-id ... \\`` continued over lines, chained with ``&&`` or ``;``. This module splits such
text into commands of :class:`Word` s, each with its offsets in the text, and recognises the
ones that are Metaflow task commands (:func:`task_commands`). It is plain Python (no libcst):
the embedded-code finder (:mod:`mfx.engine.shellcode`) runs it while files are read.

What it understands: words and whitespace; ``'...'`` and ``"..."`` quoting and backslash
escapes; line continuations (backslash-newline); comments (``#`` at the start of a word);
command separators (newline, ``;``, ``&&``, ``||``, ``|``, ``&``, parentheses); redirections
(``> file``, ``2>&1``, ``<<EOF``: the operator and its target are dropped, a heredoc's lines are
read as further commands); placeholders kept whole inside a word even when they hold spaces:
``{{ x }}``, ``${VAR}``, ``$(cmd)``, ``$((X - 1))``, backticks, ``{x}`` (``str.format``);
template statements (``{% if %}``, ``{# #}``, mustache sections ``{{#x}}``) separate words.
Nothing is ever executed or expanded.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Optional

#: Sub-commands of the Metaflow CLI that run a task (the command model's ``SUBCOMMANDS``).
SUBCOMMANDS = ("step", "init")
#: A task command passes one of these after its sub-command: Metaflow's own task options, which
#: no other program spells this way (``python setup.py step`` or ``kubectl`` lines never do).
TASK_OPTIONS = ("--run-id", "--task-id")
#: Top-level flags of the Metaflow CLI that take no value (see the command model).
FLAGS = {"--quiet", "--production", "--pylint", "--no-pylint", "--debug", "--no-debug"}
#: Scripts that take a ``step`` argument and are no flow.
NOT_FLOWS = {"setup.py", "manage.py", "conftest.py", "noxfile.py", "fabfile.py"}
_SEPARATORS = ("&&", "||", ";;", ";", "|&", "|", "&", "(", ")")
_PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_FLOWISH = re.compile(r"flow|script|entry|main|file|module|program", re.I)
_PYTHONISH = re.compile(r"python|interpreter|executable", re.I)


@dataclasses.dataclass
class Word:
    """One word of a command: its value (quotes removed, placeholders as written) and where it
    is written in the text (``start``/``end`` offsets of its spelling, quotes included)."""

    text: str
    start: int
    end: int


@dataclasses.dataclass
class Comment:
    text: str
    start: int


@dataclasses.dataclass
class Parsed:
    commands: list  # list[list[Word]]
    comments: list  # list[Comment]


def _close(text: str, i: int, opener: str, closer: str) -> int:
    """Index just past the ``closer`` matching the ``opener`` at ``i`` (nesting counted), or -1."""
    depth, n = 0, len(text)
    while i < n:
        if text.startswith(opener, i):
            depth += 1
            i += len(opener)
            continue
        if text.startswith(closer, i):
            depth -= 1
            i += len(closer)
            if depth == 0:
                return i
            continue
        if text[i] == "\n" and opener in ("{", "`"):
            return -1  # single-brace fields and backticks do not span lines here
        i += 1
    return -1


def _group_end(text: str, i: int) -> int:
    """If a placeholder opens at ``i``, the index just past it, else -1."""
    if text.startswith("{{", i):
        end = text.find("}}", i + 2)
        return end + 2 if end >= 0 else -1
    if text.startswith("${", i):
        return _close(text, i + 1, "{", "}")
    if text.startswith("$(", i):
        return _close(text, i + 1, "(", ")")
    if text[i] == "`":
        end = text.find("`", i + 1)
        return end + 1 if end >= 0 and "\n" not in text[i:end] else -1
    if text[i] == "{":
        end = _close(text, i, "{", "}")
        return end
    return -1


_STATEMENT_LINE = re.compile(r"(?m)^[ \t]*(?:\{%.*?%\}|\{#.*?#\}|\{\{[#^/!][^}]*\}\})[ \t]*\n")


def parse(text: str) -> Parsed:
    """Split ``text`` into commands of words (see the module docstring)."""
    if "{%" in text or "{#" in text or "{{" in text:
        # A template statement alone on its line leaves no line behind (Jinja's trim_blocks,
        # mustache's standalone tags): it does not end a continued command. Offsets are kept.
        text = _STATEMENT_LINE.sub(lambda m: " " * len(m.group(0)), text)
    commands: list[list[Word]] = []
    comments: list[Comment] = []
    words: list[Word] = []
    buf: list[str] = []
    start = -1
    skip_next = False  # the next word is a redirection target
    n = len(text)
    i = 0

    def end_word(at: int) -> None:
        nonlocal buf, start, skip_next
        if start >= 0:
            if skip_next:
                skip_next = False
            else:
                words.append(Word("".join(buf), start, at))
        buf, start = [], -1

    def end_command() -> None:
        nonlocal words
        if words:
            commands.append(words)
        words = []

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            if text[i + 1] == "\n":  # a line continuation
                end_word(i)
                i += 2
                continue
            if start < 0:
                start = i
            buf.append(text[i + 1])
            i += 2
            continue
        if c in " \t\r":
            end_word(i)
            i += 1
            continue
        if c == "\n":
            end_word(i)
            end_command()
            i += 1
            continue
        if c == "#" and start < 0:
            eol = text.find("\n", i)
            eol = n if eol < 0 else eol
            comments.append(Comment(text[i:eol], i))
            i = eol
            continue
        if text.startswith("{%", i) or text.startswith("{#", i) or (
            text.startswith("{{", i) and i + 2 < n and text[i + 2] in "#^/!>"
        ):
            closer = "%}" if text[i + 1] == "%" else "#}" if text[i + 1] == "#" else "}}"
            end = text.find(closer, i + 2)
            end_word(i)
            i = n if end < 0 else end + 2
            continue
        if c in "'\"":
            end = i + 1
            if start < 0:
                start = i
            while end < n and text[end] != c:
                if c == '"' and text[end] == "\\" and end + 1 < n:
                    if text[end + 1] != "\n":
                        buf.append(text[end + 1])
                    end += 2
                    continue
                if c == '"' and text[end] in "${`":
                    group = _group_end(text, end)
                    if group > end:
                        buf.append(re.sub(r"\s+", "", text[end:group]))
                        end = group
                        continue
                buf.append(text[end])
                end += 1
            i = end + 1
            continue
        if c in "$`{":
            group = _group_end(text, i)
            if group > i:
                if start < 0:
                    start = i
                buf.append(re.sub(r"\s+", "", text[i:group]))
                i = group
                continue
        if c in "<>" or (c.isdigit() and start < 0 and i + 1 < n and text[i + 1] in "<>"):
            end_word(i)
            j = i
            while j < n and (text[j] in "<>&-" or text[j].isdigit()):
                j += 1
            op = text[i:j]
            if op.endswith("&") and j < n and (text[j].isdigit() or text[j] == "-"):
                j += 1  # 2>&1: the target is part of the operator
            else:
                skip_next = True
            if "<<" in op and "<<<" not in op:
                skip_next = True  # the heredoc delimiter; the body is read as commands
            i = j
            continue
        sep = next((s for s in _SEPARATORS if text.startswith(s, i)), None)
        if sep is not None and not (sep in ("(", ")") and start >= 0):
            end_word(i)
            end_command()
            i += len(sep)
            continue
        if start < 0:
            start = i
        buf.append(c)
        i += 1
    end_word(n)
    end_command()
    return Parsed(commands, comments)


def _inner_name(word: str) -> Optional[str]:
    """The name inside a placeholder word (``{{ python }}`` -> ``python``, ``$FLOW`` -> ``FLOW``)."""
    stripped = word.strip("{}$()` ")
    m = _PLACEHOLDER_NAME.search(stripped)
    return m.group(0) if m and stripped != word else None


def is_python(word: str) -> bool:
    """A word that runs Python: ``python``, ``python3.11``, ``.venv/bin/python``, ``$PYTHON``,
    ``{{ python_bin }}``, ``{sys.executable}``."""
    base = word.rsplit("/", 1)[-1].lower()
    if re.fullmatch(r"python[0-9.]*", base):
        return True
    name = _inner_name(word)
    return bool(name and _PYTHONISH.search(name))


def is_flow_file(word: str) -> bool:
    """A word that names the flow file: ``flow.py``, ``{{ flow_file }}``, ``$FLOW_SCRIPT``."""
    base = word.rsplit("/", 1)[-1]
    if base.endswith(".py"):
        return base not in NOT_FLOWS
    name = _inner_name(word)
    return bool(name and _FLOWISH.search(name))


def _sub_index(words: list[Word]) -> Optional[int]:
    for i, w in enumerate(words):
        if w.text not in SUBCOMMANDS:
            continue
        prev = words[i - 1].text if i else ""
        if prev.startswith("--") and prev not in FLAGS and "=" not in prev:
            continue  # the value of an option (a tag named "step")
        return i
    return None


def task_command(words: list[Word], implied_program: bool = False) -> Optional[list[Word]]:
    """The words of a Metaflow task command (from the Python or flow-file word on), or None:
    a ``step``/``init`` sub-command after a Python interpreter or a flow file (never
    ``setup.py``), followed by ``--run-id`` or ``--task-id``. ``implied_program``: an argument
    list of a container whose program is given elsewhere (``args: [step, start, --run-id, ...]``)
    may start with the sub-command itself."""
    sub = _sub_index(words)
    if sub is None:
        return None
    first = 0 if implied_program and _only_options(words[:sub]) else None
    for j in range(sub):
        text = words[j].text
        if is_python(text) or is_flow_file(text):
            if first is None:
                first = j
        if text.rsplit("/", 1)[-1] in NOT_FLOWS:
            return None
    if first is None:
        return None
    rest = words[sub + 1 :]
    if not any(_has_value(rest, k) for k, w in enumerate(rest) if w.text.split("=", 1)[0] in TASK_OPTIONS):
        return None
    return words[first:]


def _has_value(words: list[Word], k: int) -> bool:
    """The option at ``k`` is given a value (``--run-id=R`` or ``--run-id R``)."""
    text = words[k].text
    if "=" in text:
        return bool(text.split("=", 1)[1])
    return k + 1 < len(words) and not words[k + 1].text.startswith("-")


def _only_options(words: list[Word]) -> bool:
    """Every word is an option or the value of the option before it (top-level options)."""
    for i, w in enumerate(words):
        prev = words[i - 1].text if i else ""
        if not (w.text.startswith("-") or (prev.startswith("--") and prev not in FLAGS and "=" not in prev)):
            return False
    return True


def task_commands(text: str) -> list[list[Word]]:
    """Every Metaflow task command in shell ``text``, with the ``-c`` bodies of ``bash -c`` /
    ``sh -c`` read as scripts of their own (their offsets point into ``text``)."""
    return [c for c, _ in _task_commands(text, 0, 0)]


def _task_commands(text: str, base: int, depth: int) -> list:
    out = []
    for words in parse(text).commands:
        found = task_command(words)
        if found is not None:
            out.append(([Word(w.text, w.start + base, w.end + base) for w in found], None))
            continue
        if depth < 2:
            for k, w in enumerate(words[:-1]):
                if w.text == "-c" and k and words[k - 1].text.rsplit("/", 1)[-1] in ("bash", "sh", "zsh", "dash"):
                    body = words[k + 1]
                    spelled = text[body.start : body.end]
                    offset = 1 if spelled[:1] in "'\"" and spelled[-1:] == spelled[:1] else 0
                    out.extend(_task_commands(body.text, base + body.start + offset, depth + 1))
    return out


def has_task_command(text: str) -> bool:
    """Whether ``text`` holds a Metaflow task command (cheap word checks first; not memoised
    process-wide: a file's strings are read once per run, by :class:`~mfx.analysis.orchestrator_command.Strings`)."""
    if not any(o in text for o in TASK_OPTIONS) or not any(s in text for s in SUBCOMMANDS):
        return False
    return bool(task_commands(text))
