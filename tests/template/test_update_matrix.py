"""Proof of the update path (issue 5): a repository generated from the previous template release,
then edited the way extension authors edit it, is updated to the current release with the same
`copier update` command `nox -s update` runs.

After the update: every user edit survives, every other file equals a fresh copy of the current
release byte for byte (so the template-owned plumbing carries the fixes, e.g. the O5 import the
previous release's registration module had), no conflict markers anywhere, the release's migration
ran and said so, the answers file records the new version, and the repository's own tests pass.
A user edit to template-owned lines the release also changed shows up as an inline conflict that
keeps both sides.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import pytest
import tomllib
import yaml
from support.generate import REPO, make_venv, render, run
from support.template_repo import (
    CONFLICT_MARKER,
    GIT_ENV,
    NEW_TAG,
    OLD_MFEXTINIT_LINE,
    OLD_TAG,
    build_template_repo,
    commit_all,
    git,
    read_tree,
    released_tree,
    template_owned,
)

pytestmark = pytest.mark.slow  # starts real engines / runs generated repos

COPIER = str(Path(sys.executable).with_name("copier"))
MIGRATION_PREFIX = f"[metaflow-extension-template {NEW_TAG} migration]"
USER_MARK = "added by the extension's authors"


@dataclass(frozen=True)
class Edit:
    """One typical user edit: `path` (``{m}`` = module name) rewritten by `change` (old text -> new)."""

    path: str
    change: Callable[[str], str]


def _insert_after(anchor: str, addition: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        lines = text.splitlines(keepends=True)
        hits = [i for i, line in enumerate(lines) if anchor in line]
        assert len(hits) == 1, f"anchor {anchor!r} found {len(hits)} times"
        lines.insert(hits[0] + 1, addition)
        return "".join(lines)

    return change


def _insert_before(anchor: str, addition: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert text.count(anchor) == 1, f"anchor {anchor!r} not found once"
        return text.replace(anchor, addition + anchor)

    return change


def _append(addition: str) -> Callable[[str], str]:
    return lambda text: text + addition


USER_EDITS: List[Edit] = [
    # The engine code: user-owned, `_skip_if_exists`, so the update never touches it.
    Edit("metaflow_extensions/{m}/plugins/{m}/engine.py",
         _append(f'\n\ndef user_helper() -> str:\n    """{USER_MARK}"""\n    return "kept"\n')),
    # A dependency in the template-owned pyproject.toml (merged: the template changed other lines).
    Edit("pyproject.toml", _insert_after('"metaflow>=', f'  "requests>=2",  # {USER_MARK}\n')),
    Edit("README.md", _append(f"\n## Deployment notes\n\nOur cluster runs this extension ({USER_MARK}).\n")),
    # An extra test that also proves the engine edit is still importable after the update.
    Edit("tests/test_user_extra.py", lambda _: (
        f'"""{USER_MARK}"""\n\nfrom metaflow_extensions.{{m}}.plugins.{{m}}.engine import user_helper\n\n\n'
        'def test_user_helper_survives_the_update():\n    assert user_helper() == "kept"\n')),
    Edit(".github/workflows/ci.yml", _insert_after("- run: nox -s lint", f"      - run: python -m pip list  # {USER_MARK}\n")),
    Edit("noxfile.py", _insert_before('if __name__ == "__main__":', (
        f'@nox.session(python=PYTHON)\ndef smoke(session: nox.Session) -> None:\n    """{USER_MARK}"""\n'
        '    session.install("-e", ".")\n    session.run("python", "-c", "import metaflow")\n\n\n'))),
]

CASES = {
    "orchestrator-temporal": {"kind": "orchestrator", "preset": "temporal"},
    "backend-slurm": {"kind": "backend", "preset": "slurm"},
    # The previous release accepted this author and wrote it unescaped into pyproject.toml (invalid
    # TOML); the current one rejects it, and the 0.2.0 migration repairs the recorded answer.
    "orchestrator-blank": {"kind": "orchestrator", "preset": "blank", "author": 'Ada "the engine" Lovelace'},
}


NO_CONFLICTS = (f"Updated to template {NEW_TAG}: no conflicts. Review the changes with `git diff`, then run "
                "`nox -s lint tests` and commit.")


def closing_message(stderr: str) -> List[str]:
    """What `copier update` printed after its last task line: the closing update report."""
    lines = stderr.splitlines()
    last_task = max(i for i, line in enumerate(lines) if " > Running task " in line)
    return [line for line in lines[last_task + 1:] if line.strip()]


def copier_update(project: Path, *extra: str) -> subprocess.CompletedProcess:
    return run([COPIER, "update", "--trust", "--defaults", "--conflict", "inline", "--vcs-ref", NEW_TAG, *extra],
               cwd=project, env=GIT_ENV, timeout=600)


def apply_edits(root: Path, module: str) -> Dict[str, str]:
    """Apply USER_EDITS under `root`; return {relative path: edited text}."""
    edited = {}
    for edit in USER_EDITS:
        rel = edit.path.format(m=module)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = edit.change(path.read_text() if path.exists() else "").replace("{m}", module)
        path.write_text(text)
        edited[rel] = text
    return edited


def fresh_answers(project: Path) -> dict:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return {k: v for k, v in answers.items() if not k.startswith("_")}


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory) -> Path:
    return build_template_repo(tmp_path_factory.mktemp("template") / "metaflow-extension-template")


@dataclass
class Updated:
    project: Path
    fresh: Path
    module: str
    user_owned: Dict[str, bytes]  # user-owned files as the user left them before the update
    edited: Dict[str, str]
    result: subprocess.CompletedProcess


_UPDATED: Dict[str, Updated] = {}


def updated_repo(case: str, template_repo: Path, base: Path) -> Updated:
    """Generate at OLD_TAG, commit, apply USER_EDITS, commit, update to NEW_TAG (once per case)."""
    if case not in _UPDATED:
        answers = CASES[case]
        project = render(base / case / "project", vcs_ref=OLD_TAG, src=template_repo, **answers)
        module = fresh_answers(project)["engine_name"].replace("-", "_")
        git(project, "init", "-q", "-b", "main")
        commit_all(project, f"generated from the template {OLD_TAG}")
        edited = apply_edits(project, module)
        commit_all(project, "our engine, docs, tests, CI and nox changes")
        user_owned = {rel: (project / rel).read_bytes() for rel in edited if rel.endswith(("engine.py", "test_user_extra.py"))}
        result = copier_update(project)
        assert result.returncode == 0, f"copier update failed:\n{result.stdout}\n{result.stderr}"
        fresh = render(base / case / "fresh", vcs_ref=NEW_TAG, src=template_repo, **fresh_answers(project))
        _UPDATED[case] = Updated(project, fresh, module, user_owned, edited, result)
    return _UPDATED[case]


@pytest.fixture(scope="module")
def update_base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("update")


@pytest.mark.parametrize("case", list(CASES))
def test_update_keeps_user_edits_and_refreshes_plumbing(case, template_repo, update_base):
    up = updated_repo(case, template_repo, update_base)
    after, fresh = read_tree(up.project), read_tree(up.fresh)

    # The migration ran and said what it did; the answers file records the new release.
    assert MIGRATION_PREFIX in up.result.stderr, up.result.stderr
    # The closing message says there is no conflict, and nothing about markers (issue 12).
    assert closing_message(up.result.stderr) == [NO_CONFLICTS], up.result.stderr[-3000:]
    assert yaml.safe_load(after[".copier-answers.yml"])["_commit"] == NEW_TAG

    # User edits survive: user-owned files untouched, edits to shared files merged into the new release.
    for rel, data in up.user_owned.items():
        assert after[rel] == data, f"the update changed the user-owned {rel}"
    expected = dict(fresh)
    for edit in USER_EDITS:
        rel = edit.path.format(m=up.module)
        if rel in up.user_owned:
            expected[rel] = up.user_owned[rel]
        else:
            expected[rel] = edit.change(fresh.get(rel, b"").decode()).replace("{m}", up.module).encode()
    # Everything else equals a fresh copy of the new release, byte for byte (no leftovers, no .rej).
    assert sorted(after) == sorted(expected), "files differ from a fresh copy plus the user's files"
    for rel in expected:
        assert after[rel] == expected[rel], f"{rel}: not the fresh {NEW_TAG} copy plus the user's edit"
    for rel in template_owned(after):
        assert not CONFLICT_MARKER.search(after[rel]), f"conflict markers in template-owned {rel}"

    # The previous release's O5 import is gone from the registration module.
    mfextinit = f"metaflow_extensions/{up.module}/plugins/mfextinit_{up.module}.py"
    assert OLD_MFEXTINIT_LINE.replace("{{ module_name }}", up.module).encode() not in after[mfextinit]
    tomllib.loads(after["pyproject.toml"].decode())  # valid TOML (the quoted author case broke it before)
    assert f'"requests>=2",  # {USER_MARK}' in after["pyproject.toml"].decode()


def test_migration_repairs_the_recorded_answer(template_repo, update_base):
    up = updated_repo("orchestrator-blank", template_repo, update_base)
    author = yaml.safe_load((up.project / ".copier-answers.yml").read_text())["author"]
    assert author == "Ada 'the engine' Lovelace"
    assert re.search(r"answer author changed from .* pitfall O30", up.result.stderr), up.result.stderr
    pyproject = tomllib.loads((up.project / "pyproject.toml").read_text())
    assert pyproject["project"]["authors"][0]["name"] == author


# A fast subset of the updated repository's tests (the whole suite runs real flows for minutes):
# the user's extra test, plan compilation, the Deployer and CLI registration through `import
# metaflow` (the registration module is what the release fixed), task commands, the engine stubs.
REPO_TEST_SUBSET = ["tests/test_user_extra.py", "tests/test_plumbing_plan.py", "tests/test_plumbing_deployer.py",
                    "tests/test_plumbing_task_command.py", "tests/test_engine.py"]


def test_updated_repo_lints_and_tests_pass(template_repo, update_base):
    """What `nox -s update` runs after the update: `mfx check` and the repository's tests (a fast
    subset, see REPO_TEST_SUBSET) in a fresh venv."""
    up = updated_repo("orchestrator-blank", template_repo, update_base)
    bin_dir = make_venv(up.project)
    lint = run([str(bin_dir / "mfx"), "check", "."], cwd=up.project, timeout=300)
    assert lint.returncode == 0, f"mfx check failed after the update:\n{lint.stdout}\n{lint.stderr}"
    result = run([str(bin_dir / "python"), "-m", "pytest", *REPO_TEST_SUBSET, "-q", "-p", "no:cacheprovider",
                  f"--basetemp={up.project.parent / 'pytest-basetemp'}"],
                 cwd=up.project, env={"USERNAME": "template-tests"}, timeout=900)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert re.search(r"\b\d+ passed", result.stdout), result.stdout[-2000:]


def nox_update(project: Path, **env: str) -> subprocess.CompletedProcess:
    return run([str(Path(sys.executable).with_name("nox")), "-s", "update"], cwd=project,
               env={"NOX_DEFAULT_VENV_BACKEND": "uv", **GIT_ENV, **env}, timeout=600)


def test_nox_update_session_explains_instead_of_failing(template_repo, update_base):
    """The generated `nox -s update`: a dirty tree, no git repository and "already up to date" each
    end with one clear message (no traceback), before copier touches anything."""
    up = updated_repo("orchestrator-blank", template_repo, update_base)
    dirty = nox_update(up.project)  # the update above is not committed yet
    assert dirty.returncode != 0
    assert "Uncommitted changes" in dirty.stderr and "Traceback" not in dirty.stderr, dirty.stderr

    commit_all(up.project, f"update to the template {NEW_TAG}")
    current = nox_update(up.project)
    assert current.returncode == 0, current.stderr
    assert f"Already at the latest template version ({NEW_TAG})" in current.stderr, current.stderr

    not_git = nox_update(up.fresh, GIT_CEILING_DIRECTORIES=str(up.fresh.parent))
    assert not_git.returncode != 0
    assert "not a git repository" in not_git.stderr and "Traceback" not in not_git.stderr, not_git.stderr


def test_conflicting_edit_is_inline_and_keeps_both_sides(template_repo, tmp_path):
    """A user edit to template-owned lines the release also rewrote: inline markers, nothing dropped."""
    project = render(tmp_path / "project", vcs_ref=OLD_TAG, src=template_repo,
                     kind="backend", preset="blank", ci=False, devstack=False)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, f"generated from the template {OLD_TAG}")
    noxfile = project / "noxfile.py"
    old_line = '    session.run("copier", "update", "--trust", "--defaults", external=False)\n'
    user_line = f'    session.run("copier", "update", "--trust", "--defaults", "--skip-tasks", external=False)  # {USER_MARK}\n'
    text = noxfile.read_text()
    assert text.count(old_line) == 1
    noxfile.write_text(text.replace(old_line, user_line))
    commit_all(project, "pass --skip-tasks to copier")

    result = copier_update(project)
    assert result.returncode == 0, f"copier update failed:\n{result.stdout}\n{result.stderr}"
    merged = noxfile.read_text()
    assert "<<<<<<< before updating" in merged and ">>>>>>> after updating" in merged, merged
    assert user_line in merged, "the user's line was dropped"
    assert '"--conflict", "inline"' in merged, "the release's line is missing"
    # git knows the file is conflicted (the user's `git status` / editor shows it).
    assert "noxfile.py" in git(project, "diff", "--name-only", "--diff-filter=U")
    # Only that file conflicts; the other template-owned files equal the release.
    fresh = read_tree(render(tmp_path / "fresh", vcs_ref=NEW_TAG, src=template_repo,
                             kind="backend", preset="blank", ci=False, devstack=False))
    after = read_tree(project)
    assert sorted(after) == sorted(fresh)
    assert [rel for rel in fresh if after[rel] != fresh[rel]] == ["noxfile.py"]
    # The closing message names that file, and only it (issue 12).
    message = closing_message(result.stderr)
    assert message[0] == f"Updated to template {NEW_TAG}. 1 file left with conflicts (you and the template changed the same lines):", message
    assert message[1] == "  noxfile.py", message
    assert "`<<<<<<< before updating`" in message[2] and "nox -s lint tests" in message[-1], message


def test_closing_message_lists_rejected_files(template_repo, tmp_path):
    """The same conflicting edit with `--conflict rej`: the closing message names the .rej file."""
    project = render(tmp_path / "project", vcs_ref=OLD_TAG, src=template_repo,
                     kind="backend", preset="blank", ci=False, devstack=False)
    git(project, "init", "-q", "-b", "main")
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + "*.rej\n")  # found even when ignored
    commit_all(project, f"generated from the template {OLD_TAG}")
    noxfile = project / "noxfile.py"
    old_line = '    session.run("copier", "update", "--trust", "--defaults", external=False)\n'
    noxfile.write_text(noxfile.read_text().replace(old_line, old_line.replace("external=False", "external=True")))
    commit_all(project, "an edit on a line the release rewrites")

    result = run([COPIER, "update", "--trust", "--defaults", "--conflict", "rej", "--vcs-ref", NEW_TAG],
                 cwd=project, env=GIT_ENV, timeout=600)
    assert result.returncode == 0, f"copier update failed:\n{result.stdout}\n{result.stderr}"
    assert (project / "noxfile.py.rej").is_file()
    message = closing_message(result.stderr)
    assert message[0].startswith(f"Updated to template {NEW_TAG}. 1 file left with conflicts"), message
    assert message[1].startswith("  noxfile.py.rej  (rejected changes for noxfile.py"), message
    assert not any("before updating" in line for line in message), "no inline markers in rej mode"


def test_noxfile_reports_only_real_conflicts(template_repo, tmp_path):
    """The generated noxfile's conflict finder: a conflicted file is reported, a file that merely
    mentions the markers (the noxfile itself) is not."""
    project = render(tmp_path / "project", vcs_ref=NEW_TAG, src=template_repo,
                     kind="backend", preset="blank", ci=False, devstack=False)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "generated")
    spec = importlib.util.spec_from_file_location("generated_noxfile", project / "noxfile.py")
    noxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noxfile)
    assert noxfile.HERE == project.resolve()
    with (project / "noxfile.py").open("a") as handle:
        handle.write("# an edit that changes the noxfile, whose CONFLICT_MARKERS line quotes the markers\n")
    assert noxfile._conflicted_files() == []
    (project / "README.md").write_text("<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n")
    (project / "LICENSE.rej").write_text("rejected hunk\n")
    assert noxfile._conflicted_files() == ["LICENSE.rej", "README.md"]


MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "repair_answers.py"


def test_migration_script_is_idempotent_and_explains_errors(tmp_path):
    answers = tmp_path / ".copier-answers.yml"
    original = ("# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n_commit: 0.1.0\n"
                'author: Ada "the engine" \\ Lovelace\nauthor_email: ada@example.com\n')
    answers.write_text(original)
    first = run([sys.executable, str(MIGRATION)], cwd=tmp_path, timeout=60)
    assert first.returncode == 0 and "answer author changed" in first.stderr, first.stderr
    repaired = answers.read_text()
    assert repaired.startswith("# Changes here will be overwritten by Copier")  # comments kept
    assert yaml.safe_load(repaired) == {**yaml.safe_load(original), "author": "Ada 'the engine' Lovelace"}
    second = run([sys.executable, str(MIGRATION)], cwd=tmp_path, timeout=60)
    assert second.returncode == 0 and "no recorded answer needs a repair" in second.stderr
    assert answers.read_text() == repaired

    answers.write_text("author: [unclosed\n")
    broken = run([sys.executable, str(MIGRATION)], cwd=tmp_path, timeout=60)
    assert broken.returncode == 1 and "not valid YAML" in broken.stderr and "Traceback" not in broken.stderr
    assert answers.read_text() == "author: [unclosed\n"  # left as it was
    missing = run([sys.executable, str(MIGRATION), "--answers-file", "nope.yml"], cwd=tmp_path, timeout=60)
    assert missing.returncode == 1 and "no answers file" in missing.stderr and "Traceback" not in missing.stderr


def test_update_check_workflow_reports_a_newer_release(template_repo, tmp_path):
    """The generated `template-update` workflow's check, run as GitHub would run it (`shell: python`),
    in a repository generated at OLD_TAG from a git URL: it warns with the newer release and fails."""
    project = render(tmp_path / "project", vcs_ref=OLD_TAG, src=f"git+file://{template_repo}",
                     kind="backend", preset="blank", ci=False, devstack=False)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, f"generated from the template {OLD_TAG}")
    fresh = render(tmp_path / "fresh", vcs_ref=NEW_TAG, src=template_repo, kind="backend", preset="blank", devstack=False)
    workflow = yaml.safe_load((fresh / ".github" / "workflows" / "template-update.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    step = workflow["jobs"]["check"]["steps"][-1]
    assert step["shell"] == "python"
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = run([sys.executable, "-c", step["run"]], cwd=project, env=env, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "::warning title=Template update available::" in result.stdout
    assert f"newer release: {NEW_TAG} (this repository is at {OLD_TAG})" in summary.read_text()


def test_update_report_outside_git_says_so_without_failing(tmp_path):
    """The closing report never turns an applied update into a failure: without git's answers it
    says what to look for, exit 0, no traceback."""
    report = Path(__file__).resolve().parents[2] / "migrations" / "update_report.py"
    result = run([sys.executable, str(report), "--version", NEW_TAG], cwd=tmp_path,
                 env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}, timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"Updated to template {NEW_TAG}. Could not list conflicted files"), result.stderr
    assert "<<<<<<< before updating" in result.stderr and ".rej" in result.stderr


# --- across the layout change (issue 10): the recorded release 0.2.0 to this tree ---------------
# 0.2.0 rendered each preset's files from template files with two-clause conditional names; this
# tree includes them from template/presets/<kind>-<preset>/. No destination path moved, so the
# update needs no migration: every user-owned file keeps the author's content byte for byte, every
# other file is this tree's plus the author's merged edits.
RELEASED, NEXT = "0.2.0", "0.3.0"
LAYOUT_CASES = {
    "orchestrator-temporal": {"kind": "orchestrator", "preset": "temporal"},  # engine_worker.py
    "backend-slurm": {"kind": "backend", "preset": "slurm"},  # devstack/slurm_stack.py
}


def _json_note(text: str) -> str:
    import json

    data = json.loads(text)
    data["x-note"] = USER_MARK
    return json.dumps(data, indent=2) + "\n"


# USER_EDITS plus an edit to every other user-owned file a preset renders (those it lacks are skipped).
LAYOUT_EDITS: List[Edit] = [
    *USER_EDITS,
    Edit("metaflow_extensions/{m}/plugins/{m}/capabilities.py", _append(f"# {USER_MARK}\n")),
    Edit("metaflow_extensions/{m}/plugins/{m}/engine_worker.py", _append(f"\n\nWORKER_NOTE = {USER_MARK!r}\n")),
    Edit("tests/test_engine.py", _append(f'\n\ndef test_added_by_the_authors():\n    """{USER_MARK}"""\n')),
    Edit("devstack/services.json", _json_note),
]


def user_owned_matcher(root: Path) -> Callable[[str], bool]:
    """copier's own matching of a template's `_skip_if_exists` (gitignore-style patterns)."""
    import pathspec

    style = "gitignore" if int(pathspec.__version__.split(".")[0]) >= 1 else "gitwildmatch"
    patterns = yaml.safe_load((root / "copier.yml").read_text())["_skip_if_exists"]
    return pathspec.PathSpec.from_lines(style, patterns).match_file


@pytest.fixture(scope="module")
def released_template_repo(tmp_path_factory) -> Path:
    if git(REPO, "rev-parse", "--is-shallow-repository").strip() == "true":
        pytest.skip(f"this checkout is shallow: release {RELEASED}'s commit is not here (git fetch --unshallow)")
    return build_template_repo(tmp_path_factory.mktemp("released") / "metaflow-extension-template",
                               previous_release=[released_tree(RELEASED)], old_tag=RELEASED, new_tag=NEXT)


@pytest.mark.parametrize("case", list(LAYOUT_CASES))
def test_update_from_release_0_2_0_across_the_preset_folders(case, released_template_repo, tmp_path):
    template = released_template_repo
    released_files = git(template, "ls-tree", "-r", "--name-only", RELEASED, "template")
    assert "and preset == " in released_files, f"{RELEASED} is not the conditional-name layout this test crosses"
    project = render(tmp_path / "project", vcs_ref=RELEASED, src=template, **LAYOUT_CASES[case])
    module = fresh_answers(project)["engine_name"].replace("-", "_")
    before_edits = read_tree(project)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, f"generated from the template {RELEASED}")
    edited = {}
    for edit in LAYOUT_EDITS:
        rel = edit.path.format(m=module)
        path = project / rel
        if not path.exists() and edit not in USER_EDITS:
            continue  # a user-owned file this preset does not have
        path.parent.mkdir(parents=True, exist_ok=True)
        edited[rel] = edit
        path.write_text(edit.change(path.read_text() if path.exists() else "").replace("{m}", module))
    commit_all(project, "our engine, worker, capabilities, tests, devstack, docs, CI and nox changes")
    mine = user_owned_matcher(template)
    user_owned = {rel: data for rel, data in read_tree(project).items() if mine(rel)}
    assert {"metaflow_extensions/%s/plugins/%s/capabilities.py" % (module, module), "tests/test_engine.py",
            "devstack/services.json"} <= set(edited) & set(user_owned)

    result = run([COPIER, "update", "--trust", "--defaults", "--conflict", "inline", "--vcs-ref", NEXT],
                 cwd=project, env=GIT_ENV, timeout=600)
    assert result.returncode == 0, f"copier update failed:\n{result.stdout}\n{result.stderr}"
    assert closing_message(result.stderr) == [NO_CONFLICTS.replace(NEW_TAG, NEXT, 1)], result.stderr[-3000:]
    after = read_tree(project)
    assert yaml.safe_load(after[".copier-answers.yml"])["_commit"] == NEXT

    fresh = read_tree(render(tmp_path / "fresh", vcs_ref=NEXT, src=template, **fresh_answers(project)))
    # No destination path moved: the release's user-owned files are where this tree renders them.
    released_mine = {rel for rel in before_edits if mine(rel)}
    assert released_mine == {rel for rel in fresh if mine(rel)}, "a user-owned destination path moved: add a migration"
    # Every user-owned file as the author left it; everything else the fresh copy plus merged edits.
    expected = dict(fresh)
    for rel, edit in edited.items():
        expected[rel] = user_owned[rel] if rel in user_owned else edit.change(fresh.get(rel, b"").decode()).replace("{m}", module).encode()
    expected.update(user_owned)
    assert sorted(after) == sorted(expected), "files differ from a fresh copy plus the user's files"
    for rel in expected:
        assert after[rel] == expected[rel], f"{rel}: not the fresh {NEXT} copy plus the user's edit"
        assert not CONFLICT_MARKER.search(after[rel]), f"conflict markers in {rel}"
