"""MFX204: ``--tag`` placed among the top-level options, before ``step``/``init``."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_project import may_mention, source_files, strings_of
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_TAG = re.compile(r"(?<![\w-])--tag(?![\w-])")


class TagBeforeSubcommand(ProjectRule):
    """## What it does
    Flags ``--tag`` placed before the ``step`` or ``init`` sub-command of a task command.

    The command may be one string or list display, or assembled across statements and helpers:
    ``--tag`` appended or inserted before the sub-command, concatenated lists, an option dict
    expanded before it, the top-level call of Metaflow's click API, or a shell command or argument
    list in a YAML/JSON workflow document, a shell template or a string constant.

    ## Why is this bad?
    ``--tag`` is an option of ``init``, ``step`` and ``run`` only; Metaflow's top level has no
    such option, so the task fails with ``no such option: --tag`` (pitfall O29). Tags given to
    ``create(tags=...)`` belong after the sub-command of every ``init`` and ``step``.

    ## Example
    ```python
    cmd = [python, flow_file, "--quiet", "--tag", tag, "step", name, "--run-id", run_id]
    ```

    ## Use instead
    ```python
    cmd = [python, flow_file, "--quiet", "step", name, "--run-id", run_id, "--tag", tag]
    ```

    """

    code = "MFX204"
    name = "tag-before-subcommand"
    message = (
        "`--tag` comes before the `step`/`init` sub-command: Metaflow has no top-level --tag; "
        "put it after the sub-command"
    )
    pitfalls = ("O29",)

    VALID = [
        Valid(
            """
def cmds(tags, name, run_id):
    step = ["step", name, "--run-id %s" % run_id]
    step.extend("--tag %s" % t for t in tags)
    init = "python flow.py --quiet init --run-id %s --tag %s" % (run_id, tags[0])
    tagged = ["step", name, "--tag", "step", "--run-id", run_id]
    return step, init, tagged
"""
        )
    ]
    INVALID = [
        Invalid(
            """
def cmds(tag, name, run_id):
    a = ["python", "flow.py", "--quiet", "--tag", tag, "step", name, "--run-id", run_id]
    b = f"python flow.py --tag {tag} init --run-id {run_id}"
    return a, b
""",
            count=2,
        ),
        Invalid(
            {
                "orch/spec/task.json": """
{"name": "start",
 "args": ["python", "flow.py", "--quiet",
          "--tag", "${TAG}",
          "step", "start", "--run-id", "${RUN_ID}", "--task-id", "t-${TASK}"]}
"""
            },
            count=1,
            line=3,
            column=12,
            note="a JSON task spec's argument list",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        seen: set[int] = set()
        for f in source_files(project):  # tests run steps by hand on purpose
            if not may_mention(f, ["--tag"]):
                continue
            for node in self._in_strings(strings_of(f)):
                if id(node) not in seen:
                    seen.add(id(node))
                    yield Report(node, self.message, path=f.path, word=("--tag", 0))
        for command in model_of(project).commands():
            for piece in command.before_sub("--tag"):
                if id(piece.node) not in seen:
                    seen.add(id(piece.node))
                    yield piece.report(self.message)

    @staticmethod
    def _in_strings(strings) -> Iterable[cst.CSTNode]:
        """``--tag`` before the sub-command in one string or one list display."""
        by_node = {f.node: f for f in strings.fragments}
        for frag in strings.fragments:
            tokens = frag.text.split()
            tag_at = next((i for i, t in enumerate(tokens) if _TAG.match(t)), None)
            sub_at = next((i for i, t in enumerate(tokens) if t in ("step", "init")), None)
            if tag_at is not None and sub_at is not None and tag_at + 1 < sub_at:
                yield frag.node
        lists = {id(n): n for n in strings.parents.values() if isinstance(n, (cst.List, cst.Tuple))}
        for lst in lists.values():
            texts = []
            for el in lst.elements:
                frag = by_node.get(el.value)
                texts.append(frag.text.strip() if frag is not None else None)
            tag_at = next((i for i, t in enumerate(texts) if t is not None and _TAG.match(t)), None)
            sub_at = next((i for i, t in enumerate(texts) if t in ("step", "init")), None)
            # A `--tag` right before `step` is a tag named step, not a sub-command.
            if tag_at is not None and sub_at is not None and tag_at + 1 < sub_at:
                yield lst.elements[tag_at].value
