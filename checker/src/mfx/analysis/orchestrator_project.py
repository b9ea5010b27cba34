"""Project-wide facts about an orchestrator: where it builds task commands, what it mentions.

Several pitfalls are about something *missing* from every task (``METAFLOW_OWNER``,
``--datastore-root`` …). The thing may be set in any module of the extension, so those rules
look across the project, and only when the project positively builds a ``step`` command
(``"step"`` together with ``--run-id`` and ``--task-id``): code that never launches Metaflow
tasks is never checked. Test files are ignored on both sides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import libcst as cst

from mfx.analysis.command_model import Command, OptionValueAt, Piece, model_of
from mfx.analysis.orchestrator_command import Fragment, code_strings, step_builders
from mfx.analysis.orchestrator_names import call_name, walk
from mfx.engine.context import FileContext, ProjectContext
from mfx.rule import Report


def nodes_of(file: FileContext) -> tuple[cst.CSTNode, ...]:
    """Every node of a file in document order (kept on the file: one walk serves all rules)."""
    return file.cached(nodes_of, lambda: tuple(walk(file.module)))


def calls_of(file: FileContext) -> tuple[cst.Call, ...]:
    return file.cached(calls_of, lambda: tuple(n for n in nodes_of(file) if type(n) is cst.Call))


def option_values(project: ProjectContext, option: str) -> list[OptionValueAt]:
    """Every value given to ``option`` in the project's (non-test) code: the command model's
    :meth:`~mfx.analysis.command_model.CommandModel.option_values`."""
    return model_of(project).option_values(option)


def source_files(project: ProjectContext) -> Iterator[FileContext]:
    for f in project:
        if not f.is_test and not f.path.endswith("noxfile.py"):
            yield f


@dataclasses.dataclass
class Builder:
    """A function that builds a ``step`` command; ``anchor`` is its ``step`` token (a
    :class:`Fragment` of the string analysis or a :class:`~mfx.analysis.command_model.Piece`
    of the command model, possibly written in a helper module), ``command`` the assembled
    command when the model followed it."""

    file: FileContext
    function: cst.FunctionDef
    anchor: Fragment | Piece
    command: Command | None = None

    @property
    def path(self) -> str:
        return getattr(self.anchor, "path", None) or self.file.path


def may_mention(f: FileContext, words: Iterable[str], every: bool = False) -> bool:
    """Whether a code string of ``f`` can contain one (``every``: each) of ``words``: a string
    value holds a word only if the file's text does, unless escape sequences may spell it (the
    argument of :mod:`mfx.applicability`). Lets project-wide searches skip a file before its
    command strings are collected."""
    found = f.words
    test = all if every else any
    return test(found.has(w.lower()) for w in words) or found.escaped


#: A step builder names both options (:func:`is_step_builder`), so both are in its file's text.
BUILDER_WORDS = ("--run-id", "--task-id")


def is_compute_backend_only(project: ProjectContext) -> bool:
    """The project is a compute backend (a step decorator that rewrites the task command, see
    :mod:`mfx.analysis.backend_model`) and no orchestrator (nothing names ``DeployerImpl``).
    Metaflow's runtime builds such a backend's tasks, ``init`` included: a ``step`` command the
    backend builds itself is the backend rules' subject (MFX304), not an orchestrator's task."""

    def build() -> bool:
        from mfx.analysis.backend_model import backend_model

        files = list(source_files(project))
        if any(f.words.mentions("DeployerImpl") for f in files):
            return False
        return any(
            d.is_compute_backend
            for f in files
            if f.words.mentions("runtime_step_cli")
            for d in backend_model(f).decorators
        )

    return project.cached(is_compute_backend_only, build)


def builders(project: ProjectContext) -> list[Builder]:
    """Every function of the project that builds a ``step`` command: the command model's
    builders (:mod:`mfx.analysis.command_model`: commands assembled across statements, helpers,
    option dicts and the click API), then the functions whose code strings name ``step``,
    ``--run-id`` and ``--task-id`` that the model did not follow. One per ``step`` token. None
    in a compute backend (:func:`is_compute_backend_only`)."""
    if is_compute_backend_only(project):
        return []
    model = model_of(project)
    out = [Builder(b.file, b.function, b.anchor, b.command) for b in model.builders()]
    followed = {id(b.function) for b in model.all_builders()} | set().union(*(b.helpers for b in model.all_builders()))
    for f in source_files(project):
        if not may_mention(f, BUILDER_WORDS, every=True):
            continue
        for func, anchor in step_builders(code_strings(f)):
            if id(func) not in followed:
                out.append(Builder(f, func, anchor))
    seen: set[int] = set()
    unique = []
    for b in out:
        if id(b.anchor.node) not in seen:
            seen.add(id(b.anchor.node))
            unique.append(b)
    return unique


def first_builder_per_file(project: ProjectContext) -> list[Builder]:
    seen: set[str] = set()
    out = []
    for b in builders(project):
        if b.file.path not in seen:
            seen.add(b.file.path)
            out.append(b)
    return out


def mentions_any(project: ProjectContext, words: Iterable[str]) -> bool:
    """The project writes one of ``words`` (options or env var names) in code: a piece of a
    task command (assembled or not, :meth:`~mfx.analysis.command_model.CommandModel.written`)."""
    return model_of(project).mentions(words)


def calls_any(project: ProjectContext, names: Iterable[str]) -> bool:
    """The project calls a function or method with one of these names."""
    names = set(names)
    for f in source_files(project):
        if not any(f.words.mentions(n) for n in names):
            continue  # a called name is an identifier, spelled in the text
        if any(call_name(c) in names for c in calls_of(f)):
            return True
    return False


def extension_of(path: str) -> str:
    """The extension a file belongs to, for rules that relate code across modules: the
    ``.../metaflow_extensions/<name>`` package, else the file's top directory (several extensions
    may be linted in one run)."""
    parts = path.split("/")
    if "metaflow_extensions" in parts:
        i = parts.index("metaflow_extensions")
        return "/".join(parts[: i + 2])
    return parts[0] if len(parts) > 1 else ""


def report_at(builder: Builder, message: str) -> Report:
    """A finding at the builder's ``step`` token (its own word inside a multi-line string)."""
    word = builder.anchor.word if isinstance(builder.anchor, Piece) else None
    return Report(node=builder.anchor.node, message=message, path=builder.path, word=word)


def subscripts_with_key(project: ProjectContext, key: str) -> bool:
    """The project reads ``<x>.attributes[key]`` or ``<x>.attributes.get(key)``."""
    from mfx.analysis.orchestrator_names import string_value

    for f in source_files(project):
        if not f.words.mentions(key):
            continue  # cheap pre-filter; the analysis below decides
        for n in nodes_of(f):
            if isinstance(n, cst.Subscript) and len(n.slice) == 1:
                sub = n.slice[0].slice
                if isinstance(sub, cst.Index) and string_value(sub.value) == key:
                    if isinstance(n.value, cst.Attribute) and n.value.attr.value == "attributes":
                        return True
            if (
                isinstance(n, cst.Call)
                and isinstance(n.func, cst.Attribute)
                and n.func.attr.value == "get"
                and isinstance(n.func.value, cst.Attribute)
                and n.func.value.attr.value == "attributes"
                and n.args
                and string_value(n.args[0].value) == key
            ):
                return True
    return False


def absent_reports(project: ProjectContext, present: bool, message: str) -> list[Report]:
    """One report per command builder (:func:`builders`), when ``present`` is False."""
    if present:
        return []
    return [report_at(b, message) for b in builders(project)]


#: A minimal task-command builder, shared by the examples of the project-wide rules.
EXAMPLE_BUILDER = '''
def step_command(python, flow_file, node, run_id, task_id, attempt, retries):
    return [python, flow_file, "--quiet", "step", node.name, "--run-id", run_id,
            "--task-id", task_id, "--retry-count", attempt, "--max-user-code-retries", retries]
'''
