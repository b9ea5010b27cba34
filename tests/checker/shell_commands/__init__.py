"""Adversarial shell-command carriers of issue 11, section 1 (second bullet): task commands written
as shell text or argument lists in YAML/JSON documents, templates and Python strings feed the one
command model (mfx.engine.shellcode, mfx.analysis.shell).

Each case is a small extension (``{path: source}``). A ``bad`` case marks with ``# <-`` the line
where the finding belongs (the ``step`` word of the command for a missing piece, the option's line
for a wrong one); the marks are removed before the files are linted, so they can stand where the
carrier has no comment syntax (JSON, after a line continuation). A ``good`` case is the same
carrier with the piece given, or a near miss that is no Metaflow task command, and must stay quiet.
``tests/checker/test_shell_commands.py`` runs them; ``cd tests/checker && python -m shell_commands``
prints the recall per carrier.
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Dict, Optional, Tuple

MARK = "# <-"

CARRIERS = {
    "yaml-script": "YAML script block (Argo `source: |`), continued lines",
    "yaml-run": "YAML `run: |` block (GitHub-Actions style) with `bash -c` and a heredoc",
    "yaml-args": "YAML `command: [python, flow.py]` + one-item-per-line `args:` list",
    "yaml-commands": "YAML list of shell lines (Kestra-style `commands:`)",
    "json-args": "JSON task spec, `args` array",
    "json-script": "JSON task spec, one shell string chained with `&&`",
    "py-constant": "module-level Python string constant (`.format`-ed), continued lines",
    "py-fstring": "f-string in a function: a multi-line script with continuations and a `&&` chain",
    "template": "Jinja shell template file (`task.sh.j2`) with `{% if %}` sections",
    "yaml-flow-args": "YAML flow-style `args: [step, start, --run-id, ...]`, the program implied (image entrypoint)",
    "guard": "no Metaflow task command: must stay quiet",
}


def _strip(text: str) -> str:
    out = []
    for line in text.splitlines(True):
        if MARK in line:
            body, _, rest = line.partition(MARK)
            line = body.rstrip(" ") + ("\n" if line.endswith("\n") else "")
        out.append(line)
    return "".join(out)


@dataclasses.dataclass(frozen=True)
class Case:
    carrier: str
    code: Optional[str]  # the rule that must (bad) or must not (good) report; None: every rule
    title: str
    files: Dict[str, str]
    invalid: bool

    @property
    def marked(self) -> Dict[str, str]:
        return {p: textwrap.dedent(s).lstrip("\n") for p, s in self.files.items()}

    @property
    def sources(self) -> Dict[str, str]:
        return {p: _strip(s) for p, s in self.marked.items()}

    def expected(self) -> set:
        return {(p, i) for p, s in self.marked.items() for i, line in enumerate(s.splitlines(), 1) if MARK in line}

    @property
    def id(self) -> str:
        return f"{self.carrier}-{self.code or 'all'}-{'bad' if self.invalid else 'good'}-{self.title}"


def bad(carrier: str, code: str, title: str, files: Dict[str, str]) -> Case:
    return Case(carrier, code, title, files, True)


def good(carrier: str, code: Optional[str], title: str, files: Dict[str, str]) -> Case:
    return Case(carrier, code, title, files, False)


def run(case: Case) -> list:
    """The diagnostics of ``case.code`` (every rule when None) on the case's files: [(path, line)]."""
    from mfx.engine.embedded import is_code_template
    from mfx.engine.runner import all_rules, lint_sources
    from mfx.projectfiles import is_project_file

    rules = [r for r in all_rules() if case.code is None or r.code == case.code]
    assert rules, case.code
    # the files `mfx check` discovers (Markdown and other documents are never read)
    files = {p: s for p, s in case.sources.items() if p.endswith(".py") or is_code_template(p) or is_project_file(p)}
    return sorted(
        (d.path, d.line)
        for d in lint_sources(files, rules)
        if case.code is None or d.code == case.code
    )


def all_cases() -> list:
    from . import cases

    return list(cases.CASES)


Pair = Tuple[str, Optional[str]]
