"""MFX026: a CI workflow step runs the kit's compliance tests and Metaflow's test/ux in one pytest."""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

from mfx.projectfiles import yaml_doc
from mfx.projectfiles.base import FileReport, ProjectFile, ProjectFileRule
from mfx.rule import Invalid, Valid

_UPSTREAM = re.compile(r"(^|/)test/ux(/|$)")
_KIT = re.compile(r"metaflow_orchestrator_kit|[^/\s]/compliance(/|$)")
_PYTEST = re.compile(r"(^|/)(pytest|py\.test)$")
_SEPARATORS = ("&&", "||", ";", "|", "&", "\n")


def split_commands(script: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, text)`` of each simple command of a shell script: split at newlines,
    ``;``, ``&``, ``|``, ``&&`` and ``||`` outside quotes and ``$(...)``; a backslash-newline
    continues the command; a ``#`` that starts a word comments out the rest of the line."""
    start, i, quote, depth = 0, 0, "", 0
    text: list[str] = []
    n = len(script)

    def flush(end: int) -> Iterator[tuple[int, int, str]]:
        body = "".join(text)
        if body.strip():
            lead = len(body) - len(body.lstrip())
            yield start + lead, end, body.strip()

    while i < n:
        ch = script[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < n:
                text.append(script[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
            text.append(ch)
            i += 1
            continue
        if ch == "\\" and i + 1 < n and script[i + 1] == "\n":
            text.append("  ")  # a continuation: same command, keep offsets aligned
            i += 2
            continue
        if ch in "'\"":
            quote = ch
        elif script.startswith("$(", i):
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == "#" and (i == 0 or script[i - 1] in " \t\n;&|("):
            while i < n and script[i] != "\n":
                text.append(" ")
                i += 1
            continue
        elif depth == 0:
            sep = next((s for s in _SEPARATORS if script.startswith(s, i)), None)
            if sep is not None:
                yield from flush(i)
                text = [" "] * len(sep)
                start = i
                i += len(sep)
                continue
        text.append(ch)
        i += 1
    yield from flush(n)


def loads_both_conftests(command: str) -> bool:
    """One pytest process that collects the kit's compliance tests and Metaflow's test/ux."""
    words = [w.strip("'\"") for w in command.split()]
    if not any(_PYTEST.search(w) for w in words):
        return False
    return any(_UPSTREAM.search(w) for w in words) and any(_KIT.search(w) for w in words)


class WorkflowConflictingUxConftests(ProjectFileRule):
    """## What it does
    In a GitHub Actions workflow (``.github/workflows/*.yml``), flags a ``run:`` step command
    that starts pytest on both Metaflow's upstream UX tests (``test/ux/...``) and the compliance
    directory of ``metaflow_orchestrator_kit``. The noxfile form of the same mistake is MFX019.

    ## Why is this bad?
    Both directories ship a ``conftest.py`` that registers the same pytest options; loading them
    in one pytest process aborts at collection with ``ValueError: option names {'--decospecs'}
    already added`` (pitfall O31). The CI job fails before running a single test. Run them as two
    pytest invocations.

    ## Example
    ```yaml
    - run: |
        pytest "$KIT_DIR/compliance" metaflow/test/ux/core --only-backend my-orch
    ```

    ## Use instead
    ```yaml
    - run: |
        pytest "$KIT_DIR/compliance"
        pytest metaflow/test/ux/core --only-backend my-orch
    ```

    In a ``run: |`` block the finding points at the command's line; suppress it with a shell
    comment on the command's last line (``pytest ...  # noqa: MFX026``).
    """

    code = "MFX026"
    name = "workflow-conflicting-ux-conftests"
    message = (
        "this pytest command loads both the orchestrator kit's compliance conftest and Metaflow's test/ux "
        "conftest, which register the same options (O31): run them as two pytest commands"
    )
    pitfalls = ("O31",)
    applies_to_core = False
    FILES = (".github/workflows/*.yml", ".github/workflows/*.yaml")

    VALID = [
        Valid(
            {
                ".github/workflows/ux.yml": """
                name: ux
                on: [push]
                jobs:
                  ux:
                    runs-on: ubuntu-latest
                    steps:
                      - run: |
                          pytest "$KIT/compliance" -x
                          pytest metaflow/test/ux/core --only-backend my-orch
                """,
            },
            note="two pytest processes",
        ),
        Valid(
            {
                ".github/workflows/ci.yml": """
                jobs:
                  lint:
                    steps:
                      - run: echo "kit/compliance and test/ux/core are run separately"
                      - run: ls kit/compliance test/ux/core
                """,
            },
            note="not pytest",
        ),
    ]
    INVALID = [
        Invalid(
            {
                ".github/workflows/ux.yml": """
                name: ux
                on: [push]
                jobs:
                  ux:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - run: |
                          pip install -e .
                          python -m pytest "$KIT/compliance" \\
                            metaflow/test/ux/core --only-backend my-orch
                """,
            },
            count=1,
        ),
        Invalid(
            {
                ".github/workflows/ux.yaml": """
                jobs:
                  ux:
                    steps:
                      - run: cd site && pytest metaflow_orchestrator_kit/compliance test/ux/core/test_basic.py
                """,
            },
            count=1,
        ),
    ]

    def check_file(self, file: ProjectFile) -> Iterable[FileReport]:
        lines = file.text.splitlines()
        for root in file.data:
            for key, value in self._run_steps(root):
                for start, end, command in split_commands(value.value):
                    if loads_both_conftests(command):
                        yield self._locate(file, lines, key, value, start, end)

    @staticmethod
    def _run_steps(root: Any) -> Iterator[tuple[Any, Any]]:
        jobs = yaml_doc.get(root, "jobs")
        if jobs is None:
            return
        for _, job in yaml_doc.items(jobs[1]):
            steps = yaml_doc.get(job, "steps")
            if steps is None or not yaml_doc.is_sequence(steps[1]):
                continue
            for step in steps[1].value:
                run = yaml_doc.get(step, "run")
                if run is not None and yaml_doc.is_scalar(run[1]) and isinstance(run[1].value, str):
                    yield run

    def _locate(self, file: ProjectFile, lines: list[str], key: Any, value: Any, start: int, end: int) -> FileReport:
        """In a literal block (``run: |``) the command's own lines; elsewhere the ``run`` key."""
        if value.style == "|":
            content = value.value.splitlines()
            first = value.start_mark.line + 1  # 0-based line of the block's first content line
            row_start, col = self._row_col(value.value, start)
            row_end, col_end = self._row_col(value.value, max(start, end - 1))
            if first + row_end < len(lines) and row_start < len(content):
                source_line = lines[first + row_start]
                if source_line.endswith(content[row_start]) and content[row_start]:
                    indent = len(source_line) - len(content[row_start])
                    return self.at(
                        file,
                        (first + row_start + 1, indent + col + 1),
                        end=(first + row_end + 1, indent + col_end + 2),
                    )
        return self.at(file, yaml_doc.position(key))

    @staticmethod
    def _row_col(text: str, offset: int) -> tuple[int, int]:
        before = text[:offset]
        row = before.count("\n")
        return row, offset - (before.rfind("\n") + 1)
