"""Template migration (0.2.0): repair recorded answers that 0.2.0's validators reject.

Template 0.2.0 rejects an `author` holding a double quote, a backslash or a control character,
because 0.1.0 wrote the author verbatim into a TOML string in pyproject.toml: such a name produced
an invalid pyproject.toml, so the extension could not be built or installed at all (and the
wheel's top_level.txt, pitfall O30, never existed). Without this migration `copier update
--defaults` drops a recorded answer that fails validation and silently puts the question's
default in its place (the author would become "Metaflow Extension Author"); with it the user's
answer is rewritten mechanically and the user is told what changed.

Run by copier in the project directory, before the update renders the new version (`_stage ==
"before"`); copier re-reads the answers file afterwards. Idempotent: a second run finds nothing to
repair. Python >= 3.9, standard library plus PyYAML (a copier dependency; copier's interpreter runs
this script). Only the repaired entries are rewritten, so comments and key order stay as copier
wrote them; the result is re-read and the file restored if it would not load back as intended.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable, List, NamedTuple, Optional

PREFIX = "[metaflow-extension-template 0.2.0 migration]"


class Repair(NamedTuple):
    key: str
    needed: Callable[[str], bool]
    fix: Callable[[str], str]
    why: str


def _clean_author(value: str) -> str:
    value = value.replace('"', "'").replace("\\", "")
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", value).split())


REPAIRS: List[Repair] = [
    Repair(
        key="author",
        needed=lambda v: bool(re.search(r'["\\\x00-\x1f\x7f]', v)),
        fix=_clean_author,
        why=(
            "0.1.0 wrote it unescaped into pyproject.toml, where a double quote or backslash made the file "
            "invalid TOML: the extension could not be installed (no wheel, no top_level.txt: pitfall O30)"
        ),
    ),
]

KEY_LINE = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*):")


def quote(value: str) -> str:
    """A YAML scalar for `value` that any YAML 1.1/1.2 loader reads back unchanged."""
    return "'" + value.replace("'", "''") + "'"


def replace_key(lines: List[str], key: str, value: str) -> List[str]:
    """`lines` with the top-level entry `key` (its line plus indented continuation lines) set to `value`."""
    out: List[str] = []
    skipping = False
    for line in lines:
        match = KEY_LINE.match(line)
        if match:
            skipping = match["key"] == key
            if skipping:
                out.append(f"{key}: {quote(value)}\n")
                continue
        elif skipping and line[:1] in (" ", "\t"):
            continue  # a long scalar copier folded onto the next lines
        else:
            skipping = False
        out.append(line)
    return out


def migrate(answers_file: Path) -> List[str]:
    """Repair `answers_file` in place; return one message per changed answer."""
    import yaml  # copier depends on PyYAML, and copier's interpreter runs this script

    text = answers_file.read_text(encoding="utf-8")
    try:
        answers = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SystemExit(f"{PREFIX} {answers_file} is not valid YAML ({exc}); restore it from git and retry.") from None
    if not isinstance(answers, dict):
        raise SystemExit(f"{PREFIX} {answers_file} is not a mapping of answers; restore it from git and retry.")
    lines = text.splitlines(keepends=True)
    messages: List[str] = []
    for repair in REPAIRS:
        value = answers.get(repair.key)
        if not isinstance(value, str) or not repair.needed(value):
            continue
        fixed = repair.fix(value)
        if not fixed:
            raise SystemExit(
                f"{PREFIX} the answer {repair.key}={value!r} is empty once repaired ({repair.why}). "
                f"Edit `{repair.key}:` in {answers_file.name}, commit, and run the update again."
            )
        lines = replace_key(lines, repair.key, fixed)
        messages.append(f"{PREFIX} answer {repair.key} changed from {value!r} to {fixed!r}: {repair.why}.")
    if messages:
        answers_file.write_text("".join(lines), encoding="utf-8")
        if yaml.safe_load(answers_file.read_text(encoding="utf-8")) != {**answers, **_fixed(answers)}:
            answers_file.write_text(text, encoding="utf-8")
            raise SystemExit(f"{PREFIX} could not rewrite {answers_file} safely; it is unchanged. Edit the answers by hand.")
    return messages


def _fixed(answers: dict) -> dict:
    return {r.key: r.fix(answers[r.key]) for r in REPAIRS if isinstance(answers.get(r.key), str) and r.needed(answers[r.key])}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers-file", default=".copier-answers.yml", help="relative to the current directory")
    args = parser.parse_args(argv)
    answers_file = Path(args.answers_file)
    if not answers_file.is_file():
        print(f"{PREFIX} no answers file at {answers_file.resolve()}: is this a generated repository?", file=sys.stderr)
        return 1
    try:
        messages = migrate(answers_file)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{PREFIX} cannot read or write {answers_file}: {exc}", file=sys.stderr)
        return 1
    for message in messages or [f"{PREFIX} checked {answers_file}: no recorded answer needs a repair."]:
        print(message, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
