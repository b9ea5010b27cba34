"""(Re)create the release tags of this repository from releases.toml.

    python3 tools/release_tags.py

Copier reads a template's versions from git tags, and tags do not travel with this repository
(a clone of its main branch has none). releases.toml records each release (version -> commit);
this command creates the missing tags from it, so `copier copy` records a release version and
`copier update` runs exactly the migrations between two releases.

Idempotent: a tag already on its recorded commit is left alone. It changes nothing and exits 1
when a recorded commit is not in this clone (a shallow clone: `git fetch --unshallow`) or a tag of
that name points elsewhere (a published tag never moves: docs/releasing.md). A version-like tag
that releases.toml does not record is reported (copier would take it for a release). Exit 2: the
record cannot be read. Standard library only, Python >= 3.9 (the system Python of a fresh machine).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
RECORD = "releases.toml"
# PEP 440 public versions in canonical form (what `git tag` and copier's version sort agree on).
VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")
HASH = re.compile(r"^[0-9a-f]{40}$")
ENTRY = re.compile(r'^"(?P<version>[^"]*)"\s*=\s*"(?P<commit>[^"]*)"\s*(#.*)?$')


class RecordError(Exception):
    """releases.toml does not hold what this tool reads."""


def read_record(path: Path) -> Dict[str, str]:
    """{version: commit} from `path`: a [releases] table of `"VERSION" = "COMMIT"` lines (a TOML
    subset: comments and blank lines allowed, nothing else)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RecordError(f"cannot read {path}: {error.strerror or error}") from None
    releases: Dict[str, str] = {}
    table: Optional[str] = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{path.name} line {number}"
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            table = line.split("#", 1)[0].strip()
            if table != "[releases]":
                raise RecordError(f"{where}: unexpected table {table} (only [releases])")
            continue
        entry = ENTRY.match(line)
        if table != "[releases]" or entry is None:
            raise RecordError(f'{where}: expected `"VERSION" = "COMMIT"` under [releases], got {line!r}')
        version, commit = entry["version"], entry["commit"]
        if not VERSION.match(version):
            raise RecordError(f"{where}: {version!r} is not a PEP 440 version in canonical form (e.g. 0.3.0, 1.0.0rc1)")
        if not HASH.match(commit):
            raise RecordError(f"{where}: {commit!r} is not a full 40-character lower-case commit hash")
        if version in releases:
            raise RecordError(f"{where}: {version} is recorded twice")
        releases[version] = commit
    if not releases:
        raise RecordError(f"{path.name}: no release recorded under [releases]")
    return releases


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60, check=False)


def _commit_of(repo: Path, ref: str) -> Optional[str]:
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return found.stdout.strip() if found.returncode == 0 else None


def plan(repo: Path, releases: Dict[str, str]) -> List[str]:
    """The versions to tag; raises RecordError naming every reason nothing can be tagged."""
    problems, missing = [], []
    for version, commit in releases.items():
        if _commit_of(repo, commit) != commit:
            missing.append(f"{version} ({commit[:12]})")
            continue
        tagged = _commit_of(repo, f"refs/tags/{version}")
        if tagged is not None and tagged != commit:
            problems.append(
                f"tag {version} points to {tagged[:12]}, releases.toml records {commit[:12]}: a published tag never "
                f"moves; if this local tag is wrong, `git tag -d {version}` and run again"
            )
    if missing:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        hint = ("this clone is shallow: run `git fetch --unshallow` (or clone without --depth) and run again"
                if shallow else "the history of this clone does not hold them (was main rewritten?)")
        problems.insert(0, f"recorded commit(s) not in this clone: {', '.join(missing)}; {hint}")
    if problems:
        raise RecordError("\n".join(problems))
    return [version for version, commit in releases.items() if _commit_of(repo, f"refs/tags/{version}") is None]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="release_tags.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="the repository to tag (default: this one)")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    try:
        releases = read_record(repo / RECORD)
    except RecordError as error:
        print(f"release_tags: error: {error}", file=sys.stderr)
        return 2
    try:
        if _git(repo, "rev-parse", "--git-dir").returncode != 0:
            print(f"release_tags: error: {repo} is not a git repository (clone it with git)", file=sys.stderr)
            return 1
        todo = plan(repo, releases)
        for version in todo:
            made = _git(repo, "tag", version, releases[version])
            if made.returncode != 0:
                print(f"release_tags: error: git tag {version} failed: {made.stderr.strip()}", file=sys.stderr)
                return 1
            print(f"tagged {version} at {releases[version][:12]}")
        kept = [version for version in releases if version not in todo]
        if kept:
            print(f"already tagged: {', '.join(kept)}")
        strays = [tag for tag in _git(repo, "tag", "--list").stdout.split()
                  if VERSION.match(tag) and tag not in releases]
        if strays:
            print(f"release_tags: warning: tag(s) {', '.join(strays)} not recorded in {RECORD}: copier takes them for "
                  "releases; record them or `git tag -d` them", file=sys.stderr)
    except FileNotFoundError:
        print("release_tags: error: git is not installed (it is needed to tag the releases)", file=sys.stderr)
        return 1
    except RecordError as error:
        print(f"release_tags: error: nothing was tagged:\n{error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
