"""Closing report of every `copier update`: the files the update left conflicted, or that there are none.

Copier's `_message_after_update` is a fixed Jinja text rendered without access to the project's
files, so it cannot tell whether the merge conflicted; it used to talk about conflict markers after
every update. This script is an unversioned `_migrations` entry at the "after" stage (copier runs
those on every update, after the merge and after the versioned "after" migrations listed before
it), in the project directory. It prints the version reached and either "no conflicts" or the
conflicted files with what to do about each. It always exits 0: the update is already applied, a
non-zero exit would only add copier's traceback.

A file counts as conflicted when git's index holds it unmerged (copier's `--conflict inline`
records its 3-way merges there), when it holds a whole line `<<<<<<< before updating` or
`>>>>>>> after updating` (the markers copier writes) and git sees it changed or new, or when it is
a `.rej` file (`--conflict rej`), ignored or not. Python >= 3.9, standard library only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Tuple

MARKERS = ("<<<<<<< before updating", ">>>>>>> after updating")


def _git(*args: str) -> List[str]:
    """NUL-separated output of a git command run in the project directory (paths relative to it)."""
    out = subprocess.run(["git", *args, "-z"], capture_output=True, timeout=120, check=True).stdout
    return [part.decode("utf-8", "surrogateescape") for part in out.split(b"\0") if part]


def _has_markers(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return any(line.rstrip().decode("utf-8", "replace") in MARKERS for line in handle)
    except OSError:
        return False


def conflicts(root: Path) -> Tuple[List[str], List[str]]:
    """(files with conflict markers or unmerged in the index, .rej files), sorted, relative to `root`."""
    unmerged = {line.split("\t", 1)[1] for line in _git("ls-files", "--unmerged") if "\t" in line}
    changed = _git("diff", "--name-only", "--relative")
    untracked = _git("ls-files", "--others", "--exclude-standard")
    marked = {name for name in [*changed, *untracked] if not name.endswith(".rej") and _has_markers(root / name)}
    rejects = {name for name in [*untracked, *_git("ls-files", "--others", "--ignored", "--exclude-standard")]
               if name.endswith(".rej")}
    return sorted(unmerged | marked), sorted(rejects)


def report(version: str, inline: List[str], rejects: List[str]) -> str:
    head = f"Updated to template {version}"
    if not inline and not rejects:
        return (f"{head}: no conflicts. Review the changes with `git diff`, then run `nox -s lint tests` "
                "and commit.")
    count = len(inline) + len(rejects)
    lines = [f"{head}. {count} file{'s' if count > 1 else ''} left with conflicts (you and the template "
             "changed the same lines):"]
    lines += [f"  {name}" for name in inline]
    lines += [f"  {name}  (rejected changes for {name[:-4]}: apply them by hand, then delete it)" for name in rejects]
    if inline:
        lines.append("Each conflict sits between `<<<<<<< before updating` and `>>>>>>> after updating`: in "
                     "template-owned files keep the template's side and re-apply your change, remove the markers, "
                     "`git add` the file.")
    lines.append("Then run `nox -s lint tests` and commit. `git diff` shows everything the update changed.")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="", help="the template version the update reached")
    args = parser.parse_args(argv)
    version = args.version or "(unknown version)"
    try:
        inline, rejects = conflicts(Path.cwd())
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        detail = detail.decode(errors="replace").strip() if isinstance(detail, bytes) else str(detail)
        print(f"Updated to template {version}. Could not list conflicted files ({detail or error}): "
              "look for `<<<<<<< before updating` markers and .rej files, then run `nox -s lint tests` and commit.",
              file=sys.stderr)
        return 0
    print(report(version, inline, rejects), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
