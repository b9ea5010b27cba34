"""Releases recorded in the tree (issue 12): releases.toml maps each release to its commit, and
tools/release_tags.py (re)creates the tags copier reads versions from.

A clone of this repository carries no tags. Without them `copier copy` records a commit that copier
ranks below every release, and the next update re-runs migrations the project already had. Proof:
in a fresh clone (main only, no tags) the tool creates the recorded tags; a project generated at
0.1.0 and updated to 0.2.0, then to a newer release, runs each release's migrations exactly once,
and never a migration outside the two versions of an update.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import tomllib
import yaml
from support.generate import REPO, render, run
from support.template_repo import GIT_ENV, add_migration, commit_all, git

TOOL = REPO / "tools" / "release_tags.py"
COPIER = str(Path(sys.executable).with_name("copier"))
REPAIR_PREFIX = "[metaflow-extension-template 0.2.0 migration]"  # migrations/repair_answers.py


def tool(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, str(TOOL), "--repo", str(repo), *args], cwd=repo, env=GIT_ENV, timeout=120)


def tags(repo: Path) -> Dict[str, str]:
    """{tag: the commit it points to}."""
    out = git(repo, "tag", "--list", "--format=%(refname:short) %(objectname)")
    return dict(line.split() for line in out.splitlines())


def recorded() -> Dict[str, str]:
    sys.path.insert(0, str(TOOL.parent))
    try:
        import release_tags
    finally:
        sys.path.remove(str(TOOL.parent))
    return release_tags.read_record(REPO / "releases.toml")


def shallow() -> bool:
    return git(REPO, "rev-parse", "--is-shallow-repository").strip() == "true"


# --- the record -------------------------------------------------------------------------------


def test_the_record_reads_as_toml_and_matches_the_changelog():
    releases = recorded()
    assert tomllib.loads((REPO / "releases.toml").read_text()) == {"releases": releases}
    changelog = (REPO / "CHANGELOG.md").read_text()
    released = re.findall(r"^## (\d[^\s]*)", changelog, flags=re.M)
    assert sorted(released) == sorted(releases), "CHANGELOG.md releases and releases.toml differ"


def test_recorded_commits_are_in_this_history():
    if shallow():
        pytest.skip("this checkout is shallow: run `git fetch --unshallow` to check the recorded commits")
    for version, commit in recorded().items():
        assert git(REPO, "cat-file", "-t", commit).strip() == "commit", version
        ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", commit, "HEAD"], cwd=REPO)
        assert ancestor.returncode == 0, f"{version} ({commit[:12]}) is not an ancestor of HEAD"
    # 0.2.0's commit dated 0.2.0 in its own changelog.
    assert "## 0.2.0 — " in git(REPO, "show", f"{recorded()['0.2.0']}:CHANGELOG.md")


# --- the tool, on a small repository ------------------------------------------------------------


@pytest.fixture
def small_repo(tmp_path) -> Dict[str, object]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commits = []
    for number in (1, 2, 3):
        (repo / "file.txt").write_text(f"{number}\n")
        commit_all(repo, f"commit {number}")
        commits.append(git(repo, "rev-parse", "HEAD").strip())
    return {"repo": repo, "commits": commits}


def write_record(repo: Path, releases: Dict[str, str]) -> None:
    lines = ["# releases", "[releases]", *(f'"{v}" = "{c}"  # note' for v, c in releases.items())]
    (repo / "releases.toml").write_text("\n".join(lines) + "\n")


def test_tool_creates_the_tags_and_is_idempotent(small_repo):
    repo, commits = small_repo["repo"], small_repo["commits"]
    write_record(repo, {"0.1.0": commits[0], "0.2.0": commits[2]})
    first = tool(repo)
    assert first.returncode == 0, first.stderr
    assert tags(repo) == {"0.1.0": commits[0], "0.2.0": commits[2]}
    assert "tagged 0.1.0" in first.stdout and "tagged 0.2.0" in first.stdout
    again = tool(repo)
    assert again.returncode == 0 and "already tagged: 0.1.0, 0.2.0" in again.stdout and "tagged 0" not in again.stdout
    assert tags(repo) == {"0.1.0": commits[0], "0.2.0": commits[2]}
    # A new release recorded later: only it is tagged.
    write_record(repo, {"0.1.0": commits[0], "0.2.0": commits[2], "0.2.1rc1": commits[1]})
    later = tool(repo)
    assert later.returncode == 0 and "tagged 0.2.1rc1" in later.stdout and "already tagged: 0.1.0, 0.2.0" in later.stdout


def test_tool_refuses_a_missing_commit_and_tags_nothing(small_repo):
    repo, commits = small_repo["repo"], small_repo["commits"]
    write_record(repo, {"0.1.0": commits[0], "0.2.0": "0123456789abcdef0123456789abcdef01234567"})
    result = tool(repo)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not in this clone: 0.2.0 (0123456789ab)" in result.stderr, result.stderr
    assert tags(repo) == {}, "a partial set of tags was created"


def test_tool_refuses_a_shallow_clone_with_the_fix(small_repo, tmp_path):
    repo, commits = small_repo["repo"], small_repo["commits"]
    write_record(repo, {"0.1.0": commits[0], "0.2.0": commits[2]})
    commit_all(repo, "record")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    result = tool(clone)
    assert result.returncode == 1 and "0.1.0 (" in result.stderr and "git fetch --unshallow" in result.stderr, result.stderr
    assert tags(clone) == {}


def test_tool_never_moves_a_tag(small_repo):
    repo, commits = small_repo["repo"], small_repo["commits"]
    write_record(repo, {"0.1.0": commits[0], "0.2.0": commits[2]})
    git(repo, "tag", "0.2.0", commits[1])
    result = tool(repo)
    assert result.returncode == 1 and "tag 0.2.0 points to" in result.stderr and "git tag -d 0.2.0" in result.stderr
    assert tags(repo) == {"0.2.0": commits[1]}, "the tool moved a tag or tagged the rest"


def test_tool_warns_about_an_unrecorded_version_tag(small_repo):
    repo, commits = small_repo["repo"], small_repo["commits"]
    write_record(repo, {"0.1.0": commits[0]})
    git(repo, "tag", "0.9.0", commits[2])
    git(repo, "tag", "not-a-version", commits[2])
    result = tool(repo)
    assert result.returncode == 0
    assert "tag(s) 0.9.0 not recorded" in result.stderr and "not-a-version" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "text,fragment",
    [
        ('[releases]\n"0.1.0" = "abc"\n', "full 40-character"),
        ('[releases]\n"v0.1.0" = "' + "a" * 40 + '"\n', "not a PEP 440 version"),
        ('"0.1.0" = "' + "a" * 40 + '"\n', "under [releases]"),
        ('[other]\n', "unexpected table [other]"),
        ('[releases]\n"0.1.0" = "' + "a" * 40 + '"\n"0.1.0" = "' + "b" * 40 + '"\n', "recorded twice"),
        ("# nothing\n[releases]\n", "no release recorded"),
    ],
)
def test_tool_explains_a_bad_record(small_repo, text, fragment):
    repo = small_repo["repo"]
    (repo / "releases.toml").write_text(text)
    result = tool(repo)
    assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert tags(repo) == {}


def test_tool_outside_a_git_repository(tmp_path):
    (tmp_path / "releases.toml").write_text('[releases]\n"0.1.0" = "' + "a" * 40 + '"\n')
    result = run([sys.executable, str(TOOL), "--repo", str(tmp_path)], cwd=tmp_path,
                 env={**GIT_ENV, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}, timeout=60)
    assert result.returncode == 1 and "not a git repository" in result.stderr, result.stderr


# --- an update between recorded releases, from a fresh clone ------------------------------------

MARK = "[release-test] migration {} ran"


def marker(version: str):
    """A `_migrations` entry for `version` that only says it ran."""
    return add_migration(version, ["{{ _copier_python }}", "-c", f"print({MARK.format(version)!r})"])


def ran(result: subprocess.CompletedProcess) -> List[str]:
    """The marker migrations an update ran (in order), and "0.2.0" when 0.2.0's real migration ran."""
    found = re.findall(r"^\[release-test\] migration (\S+) ran$", result.stdout, flags=re.M)  # not the task lines
    return (["0.2.0"] if REPAIR_PREFIX in result.stdout + result.stderr else []) + found


def update(project: Path, *args: str) -> subprocess.CompletedProcess:
    result = run([COPIER, "update", "--trust", "--defaults", "--conflict", "inline", *args], cwd=project,
                 env=GIT_ENV, timeout=900)
    assert result.returncode == 0, f"copier update failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


@pytest.mark.slow  # ~1-3 minutes: three copier copies and two updates
def test_update_between_recorded_releases_runs_only_their_migrations(tmp_path):
    if shallow():
        pytest.skip("this checkout is shallow: the recorded release commits are not here (git fetch --unshallow)")
    clone = tmp_path / "metaflow-extension-template"
    git(tmp_path, "clone", "-q", "--single-branch", "--no-tags", str(REPO), str(clone))
    assert tags(clone) == {}, "a fresh clone has no tags"

    # Without the tags a copy records no release: copier ranks it below 0.1.0, so its first update
    # would run every migration again.
    untagged = render(tmp_path / "untagged", vcs_ref=None, src=clone)
    assert answers(untagged)["_commit"] not in recorded()

    made = tool(clone)
    assert made.returncode == 0, made.stderr
    assert tags(clone) == recorded()

    # A newer release on top of this tree: its own migration, one for an older and one for a
    # future version (neither may run), then recorded after the fact, as a maintainer does.
    for change in (marker("0.1.0"), marker("0.3.0"), marker("0.4.0")):
        change(clone)
    commit_all(clone, "metaflow-extension-template 0.3.0")
    release = git(clone, "rev-parse", "HEAD").strip()
    with (clone / "releases.toml").open("a") as record:
        record.write(f'"0.3.0" = "{release}"\n')
    commit_all(clone, "Record 0.3.0")
    made = tool(clone)
    assert made.returncode == 0 and "tagged 0.3.0" in made.stdout and "already tagged: 0.1.0, 0.2.0" in made.stdout

    # A project of 0.1.0 (an author 0.2.0's migration repairs), updated release by release.
    project = render(tmp_path / "project", vcs_ref="0.1.0", src=clone, kind="backend", preset="blank",
                     ci=False, devstack=False, author='Ada "the engine" Lovelace')
    assert answers(project)["_commit"] == "0.1.0"
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "generated from 0.1.0")

    to_020 = update(project, "--vcs-ref", "0.2.0")
    assert answers(project)["_commit"] == "0.2.0"
    assert ran(to_020) == ["0.2.0"], to_020.stderr[-3000:]
    assert answers(project)["author"] == "Ada 'the engine' Lovelace"
    commit_all(project, "update to 0.2.0")

    to_newest = update(project)  # no --vcs-ref: the newest tag
    assert answers(project)["_commit"] == "0.3.0"
    assert ran(to_newest) == ["0.3.0"], to_newest.stderr[-3000:]
    assert "Updated to template 0.3.0: no conflicts." in to_newest.stderr

    # The copy made before the tags existed recorded a bare commit; with the tags in place copier
    # places that commit after the release it descends from (0.2.0), so its update runs 0.3.0's
    # migration only.
    git(untagged, "init", "-q", "-b", "main")
    commit_all(untagged, "generated from an untagged clone")
    from_untagged = update(untagged)
    assert answers(untagged)["_commit"] == "0.3.0"
    assert ran(from_untagged) == ["0.3.0"], from_untagged.stderr[-3000:]

    # A new copy from the tagged clone records the newest release.
    assert answers(render(tmp_path / "newest", vcs_ref=None, src=clone))["_commit"] == "0.3.0"
