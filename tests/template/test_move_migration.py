"""Moved files across a template update (issue 5): `migrations/move_file.py`.

The throwaway template repository's previous release renders the user-owned engine tests at
`tests/test_engine_calls.py` and a template-owned plumbing test at `tests/test_plumbing_planning.py`;
its new release renders them at their current names and wires `move_file.py` for the user-owned
one only. A repository generated from the previous release, with the user's tests added to the
old file, is updated with the `copier` CLI: the user's content is at the new path, the old paths are
gone, nothing is left as `.rej` or conflict markers, and the migration said what moved and why.
Without the migration the same update loses the user's tests (the pitfall the migration fixes).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import yaml
from support.generate import render, run
from support.template_repo import (
    CONFLICT_MARKER,
    GIT_ENV,
    NEW_TAG,
    OLD_TAG,
    PREVIOUS_RELEASE,
    add_migration,
    build_template_repo,
    commit_all,
    git,
    read_tree,
    rename_template_file,
)

COPIER = str(Path(sys.executable).with_name("copier"))
MOVE_FILE = Path(__file__).resolve().parents[2] / "migrations" / "move_file.py"
OLD_USER_FILE, NEW_USER_FILE = "tests/test_engine_calls.py", "tests/test_engine.py"
OLD_OWNED_FILE, NEW_OWNED_FILE = "tests/test_plumbing_planning.py", "tests/test_plumbing_plan.py"
WHY = "the engine's tests take the name the docs and _skip_if_exists use"
ANSWERS = {"kind": "orchestrator", "preset": "blank", "ci": False, "devstack": False}
USER_TEST = '\n\ndef test_added_by_the_extension_authors():\n    assert "kept" == "kept"\n'
MOVE_COMMAND: List[str] = [
    "{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/move_file.py",
    "--from", OLD_USER_FILE, "--to", NEW_USER_FILE, "--why", WHY, "--pitfall", "O5", "--release", NEW_TAG,
]
PREVIOUS = [*PREVIOUS_RELEASE, rename_template_file(NEW_USER_FILE, OLD_USER_FILE),
            rename_template_file(NEW_OWNED_FILE, OLD_OWNED_FILE)]


def copier_update(project: Path) -> subprocess.CompletedProcess:
    return run([COPIER, "update", "--trust", "--defaults", "--conflict", "inline", "--vcs-ref", NEW_TAG],
               cwd=project, env=GIT_ENV, timeout=600)


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory) -> Path:
    """OLD_TAG renders the old paths; NEW_TAG renders the current ones and moves the user-owned file."""
    return build_template_repo(tmp_path_factory.mktemp("move") / "template", previous_release=PREVIOUS,
                               this_release=[add_migration(NEW_TAG, MOVE_COMMAND)])


def generated_with_user_tests(template_repo: Path, dst: Path) -> Path:
    """A repository generated at OLD_TAG whose user added a test to the (old) engine tests file."""
    project = render(dst, vcs_ref=OLD_TAG, src=template_repo, **ANSWERS)
    assert (project / OLD_USER_FILE).is_file() and (project / OLD_OWNED_FILE).is_file()
    assert not (project / NEW_USER_FILE).exists() and not (project / NEW_OWNED_FILE).exists()
    git(project, "init", "-q", "-b", "main")
    commit_all(project, f"generated from the template {OLD_TAG}")
    with (project / OLD_USER_FILE).open("a") as handle:
        handle.write(USER_TEST)
    commit_all(project, "our engine tests")
    return project


def test_update_moves_the_user_file_and_the_template_file(template_repo, tmp_path):
    project = generated_with_user_tests(template_repo, tmp_path / "project")
    user_content = (project / OLD_USER_FILE).read_bytes()
    result = copier_update(project)
    assert result.returncode == 0, result.stdout + result.stderr

    # The migration said what moved and why.
    said = f"[metaflow-extension-template {NEW_TAG} migration] moved {OLD_USER_FILE} -> {NEW_USER_FILE}"
    assert said in result.stderr and WHY in result.stderr and "pitfall O5" in result.stderr, result.stderr

    # The user's content is at the new path, byte for byte; both old paths are gone.
    assert (project / NEW_USER_FILE).read_bytes() == user_content
    assert not (project / OLD_USER_FILE).exists() and not (project / OLD_OWNED_FILE).exists()

    # Everything else is a fresh copy of the new release (the template-owned file at its new path
    # included), with no `.rej` file and no conflict marker anywhere.
    after = read_tree(project)
    fresh = read_tree(render(tmp_path / "fresh", vcs_ref=NEW_TAG, src=template_repo, **ANSWERS))
    assert sorted(after) == sorted(fresh)
    assert [rel for rel in fresh if after[rel] != fresh[rel]] == [NEW_USER_FILE]
    assert not [rel for rel, data in after.items() if rel.endswith(".rej") or CONFLICT_MARKER.search(data)]
    assert yaml.safe_load(after[".copier-answers.yml"])["_commit"] == NEW_TAG

    # git sees a rename (staged by the migration), not a deletion plus an untracked file.
    status = git(project, "status", "--porcelain").splitlines()
    assert f"R  {OLD_USER_FILE} -> {NEW_USER_FILE}" in status, status
    assert not [line for line in status if line.startswith(("UU", "AA", "DU", "UD"))], status


def test_update_without_the_migration_loses_the_user_file(tmp_path):
    """The pitfall: the same release without the migration entry deletes the user's tests."""
    repo = build_template_repo(tmp_path / "template", previous_release=PREVIOUS)
    project = generated_with_user_tests(repo, tmp_path / "project")
    result = copier_update(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (project / OLD_USER_FILE).exists()
    assert "test_added_by_the_extension_authors" not in (project / NEW_USER_FILE).read_text()


def test_update_refuses_when_both_paths_exist(template_repo, tmp_path):
    project = generated_with_user_tests(template_repo, tmp_path / "project")
    (project / NEW_USER_FILE).write_text('"""the user already started the new file"""\n')
    commit_all(project, "both files")
    before = read_tree(project)
    result = copier_update(project)
    assert result.returncode != 0
    assert f"both {OLD_USER_FILE} and {NEW_USER_FILE} exist" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert read_tree(project) == before  # nothing changed
    assert git(project, "status", "--porcelain") == ""


# Unit tests of the script ------------------------------------------------------------------


def move_file(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, str(MOVE_FILE), *args], cwd=cwd, timeout=60)


@pytest.fixture()
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "metaflow_extensions" / "acme" / "plugins" / "acme").mkdir(parents=True)
    (root / "metaflow_extensions/acme/plugins/acme/calls.py").write_text("API = 'mine'\n")
    (root / ".copier-answers.yml").write_text("_commit: 0.1.0\nmodule_name: acme\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "generated")
    return root


ENGINE_MOVE = ("--from", "metaflow_extensions/{module_name}/plugins/{module_name}/calls.py",
               "--to", "metaflow_extensions/{module_name}/plugins/{module_name}/engine.py", "--why", "renamed")


def test_move_is_idempotent_and_resolves_answers(project):
    first = move_file(project, *ENGINE_MOVE, "--pitfall", "O5", "--pitfall", "O30")
    assert first.returncode == 0, first.stderr
    assert "moved metaflow_extensions/acme/plugins/acme/calls.py -> metaflow_extensions/acme/plugins/acme/engine.py" in first.stderr
    assert "Why: renamed (fixes pitfall O5, O30)." in first.stderr
    engine = project / "metaflow_extensions/acme/plugins/acme/engine.py"
    assert engine.read_text() == "API = 'mine'\n"
    assert not (project / "metaflow_extensions/acme/plugins/acme/calls.py").exists()
    second = move_file(project, *ENGINE_MOVE)
    assert second.returncode == 0 and "already in place" in second.stderr, second.stderr
    assert engine.read_text() == "API = 'mine'\n"


def test_untracked_file_is_moved_and_empty_folders_removed(project):
    (project / "old" / "deep").mkdir(parents=True)
    (project / "old" / "deep" / "notes.md").write_text("mine\n")
    result = move_file(project, "--from", "old/deep/notes.md", "--to", "docs/notes.md", "--why", "docs live in docs/")
    assert result.returncode == 0 and "`git add` the new path" in result.stderr, result.stderr
    assert (project / "docs" / "notes.md").read_text() == "mine\n"
    assert not (project / "old").exists()


def test_unusable_new_path_is_explained(project):
    (project / "docs").write_text("a file where the new path needs a folder\n")
    result = move_file(project, "--from", ".copier-answers.yml", "--to", "docs/answers.yml", "--why", "w")
    assert result.returncode == 1 and "cannot move" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert (project / ".copier-answers.yml").is_file()


def test_nothing_to_move(project):
    result = move_file(project, "--from", "gone.py", "--to", "also_gone.py", "--why", "w")
    assert result.returncode == 0 and "nothing to move" in result.stderr, result.stderr
    assert not (project / "also_gone.py").exists()


def test_both_paths_refused_and_nothing_changed(project):
    (project / "metaflow_extensions/acme/plugins/acme/engine.py").write_text("API = 'theirs'\n")
    before = read_tree(project)
    result = move_file(project, *ENGINE_MOVE)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "both metaflow_extensions/acme/plugins/acme/calls.py and" in result.stderr
    assert "`git rm metaflow_extensions/acme/plugins/acme/calls.py`" in result.stderr  # says what to do
    assert read_tree(project) == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--from", "{engine}/a.py", "--to", "b.py", "--why", "w"), "needs the answer {engine}"),
        (("--from", "a.py", "--to", "{module_name/b.py", "--why", "w"), "not a valid pattern"),
        (("--from", "/etc/hosts", "--to", "b.py", "--why", "w"), "relative to the project root"),
        (("--from", "a.py", "--to", "../b.py", "--why", "w"), "relative to the project root"),
        (("--from", "a.py", "--to", "a.py", "--why", "w"), "the same path"),
        (("--from", "a.py", "--to", "b.py", "--why", " "), "--why must say"),
        (("--from", "{module_name}.py", "--to", "b.py", "--why", "w", "--answers-file", "nope.yml"), "no answers file"),
    ],
)
def test_bad_arguments_are_explained(project, args, expected):
    before = read_tree(project)
    result = move_file(project, *args)
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert read_tree(project) == before


def test_broken_answers_file_is_explained(project):
    (project / ".copier-answers.yml").write_text("module_name: [unclosed\n")
    result = move_file(project, *ENGINE_MOVE)
    assert result.returncode == 2 and "cannot read the answers" in result.stderr and "Traceback" not in result.stderr
    assert (project / "metaflow_extensions/acme/plugins/acme/calls.py").exists()
