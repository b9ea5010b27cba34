"""Template migration: move a file the template renamed, keeping the user's content.

Why it exists: when a release renames a user-owned file (one in `_skip_if_exists`, e.g. the
engine module or its tests), `copier update` without a migration applies the user's edits to the
old path, then deletes the old path because the new release no longer renders it, and creates the
new path from the template. The user's code silently disappears from the working tree (only git
history still has it). Run by copier in the project directory at the `before` stage, this script
moves the file first; the new path is in `_skip_if_exists`, so the update keeps it as is, and the
old path is already gone, so there is nothing left to delete, no `.rej` file and no conflict.

Template-owned files need no migration: copier deletes the old path and renders the new one.

Paths are relative to the project root and may name recorded answers as `{module_name}`, read from
the answers file. Idempotent: a file already at the new path is reported and left alone. When both
paths exist it refuses (exit 1) and changes nothing. A file tracked by git is moved with `git mv`,
so the rename is staged and a plain `git commit` records both sides of it.

Exit codes: 0 moved or nothing to do, 1 refused (nothing changed), 2 bad arguments or answers.
Python >= 3.9, standard library plus PyYAML (a copier dependency; copier's interpreter runs this).
"""

from __future__ import annotations

import argparse
import os
import shutil
import string
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional

GIT_TIMEOUT = 60


class MigrationError(Exception):
    """A message for the user; `code` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def prefix(release: Optional[str]) -> str:
    return f"[metaflow-extension-template {release} migration]" if release else "[metaflow-extension-template migration]"


def load_answers(answers_file: Path) -> Dict[str, object]:
    """The recorded answers, for `{name}` placeholders in paths."""
    if not answers_file.is_file():
        raise MigrationError(
            f"no answers file at {answers_file}: run this from the generated repository's root "
            "(copier does), or pass --answers-file", 2)
    import yaml  # copier depends on PyYAML, and copier's interpreter runs this script

    try:
        answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MigrationError(f"cannot read the answers in {answers_file} ({exc}); restore it from git and retry", 2) from None
    if not isinstance(answers, dict):
        raise MigrationError(f"{answers_file} is not a mapping of answers; restore it from git and retry", 2)
    return answers


def resolve(pattern: str, answers_file: Path, answers: Dict[str, Dict[str, object]]) -> str:
    """`pattern` with every `{name}` replaced by the recorded answer `name`."""
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(pattern) if field is not None]
    except ValueError as exc:
        raise MigrationError(f"path {pattern!r} is not a valid pattern ({exc}); write answers as {{name}}", 2) from None
    if not names:
        return pattern
    if "loaded" not in answers:
        answers["loaded"] = load_answers(answers_file)
    recorded = answers["loaded"]
    values: Dict[str, str] = {}
    for name in names:
        value = recorded.get(name)
        if not name.isidentifier() or not isinstance(value, str) or not value:
            raise MigrationError(
                f"path {pattern!r} needs the answer {{{name}}}, which {answers_file} does not record as a "
                f"non-empty string; add `{name}: <value>` there (or fix the migration's path), commit, and retry", 2)
        values[name] = value
    return pattern.format(**values)


def check_relative(label: str, raw: str) -> Path:
    """A path inside the project: relative, no `..`, not empty."""
    path = PurePosixPath(raw.replace("\\", "/"))
    if not raw.strip() or path.is_absolute() or ".." in path.parts or str(path) in ("", "."):
        raise MigrationError(f"{label} {raw!r} must be a file path relative to the project root, without '..'", 2)
    return Path(*path.parts)


def _git(*args: str) -> Optional[subprocess.CompletedProcess]:
    """Run git in the project; None when git is missing or hangs."""
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=GIT_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _tracked(path: Path) -> bool:
    proc = _git("ls-files", "--error-unmatch", "--", path.as_posix())
    return proc is not None and proc.returncode == 0


def _remove_empty_parents(path: Path) -> List[Path]:
    """Remove the directories `path` left empty (up to the project root); git does not track them."""
    removed = []
    for parent in path.parents:
        if parent == Path("."):
            break
        try:
            parent.rmdir()
        except OSError:  # not empty (or not ours to remove): stop there
            break
        removed.append(parent)
    return removed


def move(old: Path, new: Path) -> str:
    """Move `old` to `new` (both relative to the current directory); return what happened."""
    old_there, new_there = os.path.lexists(old), os.path.lexists(new)
    if old_there and new_there:
        raise MigrationError(
            f"both {old} and {new} exist, and the template now uses only {new}. Nothing was changed. "
            f"Merge what you need from {old} into {new}, remove {old} (`git rm {old}`), commit, and run the update again", 1)
    if not old_there:
        if new_there:
            return f"{new} is already in place ({old} is gone): nothing to move"
        return f"neither {old} nor {new} exists: nothing to move (the update creates {new} from the template)"
    if old.is_dir() and not old.is_symlink():
        raise MigrationError(f"{old} is a directory; this migration moves single files. Nothing was changed", 1)
    new.parent.mkdir(parents=True, exist_ok=True)
    how = ""
    if _tracked(old):
        proc = _git("mv", "--", old.as_posix(), new.as_posix())
        if proc is not None and proc.returncode == 0:
            how = "with `git mv`: the rename is staged"
    if not how:
        how = "plain rename: `git add` the new path before you commit"
        try:
            shutil.move(str(old), str(new))
        except OSError as exc:
            raise MigrationError(f"cannot move {old} to {new}: {exc}. Move it by hand, commit, and run the update again", 1) from None
    _remove_empty_parents(old)
    return f"moved {old} -> {new} ({how}), your content unchanged"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="old", required=True, help="old path, relative to the project root; {answer} allowed")
    parser.add_argument("--to", dest="new", required=True, help="new path, relative to the project root; {answer} allowed")
    parser.add_argument("--why", required=True, help="why the template moved the file (printed to the user)")
    parser.add_argument("--pitfall", action="append", default=[], help="pitfall id the move fixes, e.g. O5 (repeatable)")
    parser.add_argument("--release", help="the template release that moved the file (for the message)")
    parser.add_argument("--answers-file", default=".copier-answers.yml", help="relative to the current directory")
    args = parser.parse_args(argv)
    tag = prefix(args.release)
    try:
        if not args.why.strip():
            raise MigrationError("--why must say why the file moved (the user reads it)", 2)
        answers: Dict[str, Dict[str, object]] = {}
        answers_file = Path(args.answers_file)
        old = check_relative("--from", resolve(args.old, answers_file, answers))
        new = check_relative("--to", resolve(args.new, answers_file, answers))
        if old == new:
            raise MigrationError(f"--from and --to are the same path ({old})", 2)
        what = move(old, new)
    except MigrationError as exc:
        print(f"{tag} {exc}.", file=sys.stderr)
        return exc.code
    except OSError as exc:  # e.g. a parent of the new path is a file, or no permission
        print(f"{tag} cannot move {args.old} to {args.new}: {exc}. Move it by hand, commit, and run the update again.",
              file=sys.stderr)
        return 1
    fixes = f" (fixes pitfall {', '.join(args.pitfall)})" if args.pitfall else ""
    print(f"{tag} {what}. Why: {args.why.strip().rstrip('.')}{fixes}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
