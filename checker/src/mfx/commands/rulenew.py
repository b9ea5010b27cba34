"""``mfx rule new CODE name --base file|project``: write the skeleton of a new rule module.

The module gets the documentation sections every rule has (``## What it does``, ``## Why is this
bad?``, ``## Example``, ``## Use instead``), the declared pitfalls (checked against
:mod:`mfx.pitfalls`), and placeholder ``VALID`` / ``INVALID`` examples. Placeholders and the
``TODO(mfx rule new)`` markers make ``tests/checker/test_rule_examples.py`` fail for the rule until
they are replaced, so an unfinished rule cannot pass the suite by accident.

Bad input (a malformed or taken code, a malformed or taken name, an unknown pitfall, an existing
file) is one line on stderr and exit 2; nothing is written then.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import List, Optional, Sequence

from mfx.errors import UsageError

#: Written where the author still has to write something. ``check_examples`` reports a rule whose
#: docstring, message or examples still contain it.
TODO = "TODO(mfx rule new)"

_CODE_RE = re.compile(r"^(?:MFX)?(\d{3})$", re.IGNORECASE)
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_MODULE_RE = re.compile(r"^mfx(\d{3})_(\w+)\.py$")
BASES = ("file", "project")


def build_parser():
    from mfx.cli import _Parser

    p = _Parser(
        prog="mfx rule new",
        description="Write the skeleton of a new lint rule: checker/src/mfx/rules/mfxNNN_<name>.py with "
        "the documentation sections, the pitfalls it detects and placeholder examples that fail the "
        "example test until you fill them in. See docs/lint/adding-a-rule.md.",
    )
    p.add_argument("code", metavar="CODE", help="the new code, e.g. MFX327 (or 327); the hundreds are the family")
    p.add_argument("name", metavar="NAME", help="kebab-case name of the bad pattern, e.g. retry-count-dropped")
    p.add_argument("--base", choices=BASES, default="file",
                   help="file: looks at one file at a time (a libcst visitor); project: needs several files (default: file)")
    p.add_argument("--pitfall", action="append", default=[], metavar="IDS",
                   help="pitfall ids of mfx/pitfalls.py the rule detects (repeatable or comma separated, e.g. O12,B3)")
    p.add_argument("--rules-dir", metavar="DIR", help="where to write the module (default: the installed mfx/rules)")
    return p


def run_rule_new(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    path = scaffold(args.code, args.name, base=args.base, pitfalls=args.pitfall, rules_dir=args.rules_dir)
    code = normalise_code(args.code)
    print(f"wrote {path}")
    print(
        f"next: replace every {TODO} in it, then run "
        f"`python -m pytest tests/checker/test_rule_examples.py tests/checker/test_rule_metadata.py -k {code}` "
        "and `mfx rule --write-docs docs/rules` (docs/lint/adding-a-rule.md)"
    )
    return 0


def normalise_code(code: str) -> str:
    match = _CODE_RE.match(code.strip())
    if not match:
        raise UsageError(f"bad rule code {code!r}: write MFX and three digits, e.g. MFX327")
    return f"MFX{match.group(1)}"


def _existing(rules_dir: Path) -> dict[str, str]:
    """``{code: name with underscores}`` of the rule modules in ``rules_dir``."""
    out: dict[str, str] = {}
    for entry in sorted(os.listdir(rules_dir)):
        match = _MODULE_RE.match(entry)
        if match:
            out.setdefault(f"MFX{match.group(1)}", match.group(2))
    return out


def _pitfall_ids(specs: Sequence[str]) -> List[str]:
    from mfx import pitfalls as catalogue

    ids: List[str] = []
    for spec in specs:
        for pid in catalogue.split_ids(spec):
            pid = pid.upper()
            if pid not in ids:
                ids.append(pid)
    bad = catalogue.unknown(ids)
    if bad:
        raise UsageError(
            f"unknown pitfall {', '.join(bad)}: use ids of mfx/pitfalls.py (`mfx pitfall --all` lists them)"
        )
    return ids


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def scaffold(
    code: str,
    name: str,
    base: str = "file",
    pitfalls: Sequence[str] = (),
    rules_dir: Optional[str | os.PathLike] = None,
) -> Path:
    """Write the new rule module and return its path; :class:`UsageError` on bad input."""
    from mfx.registry import ENGINE_CODES
    from mfx.registry import rules_dir as default_rules_dir

    code = normalise_code(code)
    if code in ENGINE_CODES:
        raise UsageError(f"{code} belongs to the engine ({ENGINE_CODES[code]}); pick another code")
    if base not in BASES:
        raise UsageError(f"bad --base {base!r}: file or project")
    name = name.strip()
    if not _NAME_RE.match(name):
        raise UsageError(f"bad rule name {name!r}: kebab-case naming the bad pattern, e.g. retry-count-dropped")
    ids = _pitfall_ids(pitfalls)
    target_dir = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    if not target_dir.is_dir():
        raise UsageError(f"{target_dir}: no such directory")
    existing = _existing(target_dir)
    if code in existing:
        raise UsageError(f"{code} exists already (mfx{code[3:]}_{existing[code]}.py); pick a free code")
    module_suffix = name.replace("-", "_")
    for other, suffix in existing.items():
        if suffix == module_suffix:
            raise UsageError(f"the name {name!r} is taken by {other}; pick another name")
    path = target_dir / f"{code.lower()}_{module_suffix}.py"
    if path.exists():  # pragma: no cover - caught by the code check above
        raise UsageError(f"{path} exists already")
    text = render(code, name, base, ids)
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    from mfx.registry import rule_modules

    rule_modules.cache_clear()
    return path


def _pitfall_text(ids: Sequence[str]) -> str:
    if not ids:
        return ""
    return " (pitfall " + ", ".join(ids) + ")" if len(ids) == 1 else " (pitfalls " + ", ".join(ids) + ")"


_HEADER = '''"""{code}: {todo} one line: the bad pattern this rule flags."""

from __future__ import annotations

'''

_DOC = '''    """## What it does
    {todo} which code shape this rule flags, in one paragraph.

    ## Why is this bad?
    {todo} what breaks at run time, and for whom{pitfall_text}.

    ## Example
    ```python
    {todo} the smallest code this rule flags
    ```

    ## Use instead
    ```python
    {todo} the same code, fixed
    ```
    """

    code = "{code}"
    name = "{name}"
    message = "{todo} say what is wrong and how to fix it"
    pitfalls = {pitfalls}
'''

_EXAMPLES = '''
    # Every VALID source must give no {code} finding, every INVALID source at least one (exactly
    # `count` if given). `line`/`column` (1-based) and `message` (a substring) pin the finding.
    # Several files: pass {{"relative/path.py": "source", ...}} instead of one string.
    VALID = [
        Valid(PLACEHOLDER),
    ]
    INVALID = [
        Invalid(PLACEHOLDER),
    ]
'''

_FILE = '''from collections.abc import Iterator

import libcst as cst

from mfx.applicability import ALWAYS
from mfx.engine.context import FileContext
from mfx.rule import PLACEHOLDER, Invalid, Report, Rule, Valid


class {cls}(Rule):
{doc}    # Applicability pre-check (mfx.applicability): words of which at least one must occur in a
    # file for this rule to be able to report there, with the argument why that is sound, e.g.
    # TRIGGERS = ("Deployer",)  # it only reports on subclasses of ...Deployer: the word is written
    # ALWAYS runs the rule on every file.
    TRIGGERS = ALWAYS
{examples}
    # Called once per file. `file` (mfx.engine.context.FileContext): path, source, module (the
    # libcst tree), nodes(kind, within=...), parent_of(node). Yield self.report(node) (or
    # self.report(node, "message", fix=...)) per finding. Shared analyses: mfx/analysis/.
    def check(self, file: FileContext) -> Iterator[Report]:
        for call in file.nodes(cst.Call):
            if self._is_bad(call):
                yield self.report(call)

    def _is_bad(self, node: cst.Call) -> bool:
        return False
'''

_PROJECT = '''from collections.abc import Iterator

import libcst as cst

from mfx.engine.context import ProjectContext
from mfx.rule import PLACEHOLDER, Invalid, ProjectRule, Report, Valid


class {cls}(ProjectRule):
{doc}{examples}
    # Called once per run. `project` (mfx.engine.context.ProjectContext): files {{path:
    # FileContext}}, resolve(dotted_module). Yield self.report(node, path=...) per finding, with
    # the path of the file the node is in.
    def check(self, project: ProjectContext) -> Iterator[Report]:
        for path, file in sorted(project.files.items()):
            for call in file.nodes(cst.Call):
                if self._is_bad(call):
                    yield self.report(call, path=path)

    def _is_bad(self, node: cst.Call) -> bool:
        return False
'''


def render(code: str, name: str, base: str, ids: Sequence[str]) -> str:
    declared = "(" + ", ".join(f'"{pid}"' for pid in ids) + ("," if len(ids) == 1 else "") + ")"
    fields = dict(code=code, name=name, todo=TODO, pitfalls=declared, pitfall_text=_pitfall_text(ids), cls=class_name(name))
    doc = _DOC.format(**fields)
    examples = _EXAMPLES.format(**fields)
    body = (_FILE if base == "file" else _PROJECT).format(doc=doc, examples=examples, **fields)
    return _HEADER.format(**fields) + body
