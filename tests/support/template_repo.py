"""A throwaway git repository of this template with two PEP 440 tags, for the update tests.

``copier update`` only works between git versions of a template. This repository has no release
history a test can rely on (CI checkouts may be shallow, tags come later), so the tests build one:
the OLD tag is the current tree changed back by PREVIOUS_RELEASE, the NEW tag is the current tree
as it is. Three of those changes restore what release 0.1.0 really had (its `nox -s update`
session, no update-check workflow, the looser author validator and no migrations); one is
synthetic and stands for any plumbing fix a release ships (a pitfall in the registration module).
An update from OLD to NEW is then what a user of the previous release gets from ``nox -s update``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import yaml

REPO = Path(__file__).resolve().parents[2]
OLD_TAG = "0.1.0"
NEW_TAG = "0.2.0"
# Copied into the throwaway repository: everything `copier copy/update` reads from the template.
TEMPLATE_PARTS = ("copier.yml", "template", "migrations")
CACHES = shutil.ignore_patterns("__pycache__", "*.py[co]", ".ruff_cache", ".pytest_cache", ".mypy_cache", ".mfx_cache")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "template-tests",
    "GIT_AUTHOR_EMAIL": "template-tests@example.com",
    "GIT_COMMITTER_NAME": "template-tests",
    "GIT_COMMITTER_EMAIL": "template-tests@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,  # no user hooks, signing or templates
    "GIT_CONFIG_NOSYSTEM": "1",
}

MFEXTINIT = "template/metaflow_extensions/{{module_name}}/plugins/mfextinit_{{module_name}}.py.jinja"
NOXFILE = "template/noxfile.py.jinja"
UPDATE_WORKFLOW = "template/{% if ci %}.github{% endif %}/workflows/template-update.yml.jinja"
# The synthetic plumbing pitfall of the OLD tag (the tests check the update removes it).
OLD_MFEXTINIT_LINE = (
    "from .{{ module_name }} import engine  # noqa: F401  imports the engine SDK at `import metaflow` (pitfall O5)\n"
)
# The previous release's `nox -s update` session (no dirty-tree or no-newer-version handling,
# conflict mode left implicit, mfx resolved from the answers recorded before the update).
OLD_UPDATE_SESSION = '''@nox.session(python=PYTHON)
def update(session: nox.Session) -> None:
    """Pull the latest template into this repo, then re-lint and re-test."""
    session.install("copier>=9.6", "-e", ".", *group("lint"), *group("test"))
    session.run("copier", "update", "--trust", "--defaults", external=False)
    session.run("mfx", "check", ".")
    session.run("pytest", "tests", "-q")


'''


def git(cwd: Path, *args: str, timeout: float = 120) -> str:
    """Run git with a fixed identity; raise with git's own message on failure."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def commit_all(cwd: Path, message: str) -> None:
    git(cwd, "add", "-A")
    git(cwd, "commit", "-q", "--no-verify", "-m", message)


def _replace_once(text: str, old: str, new: str, where: str) -> str:
    if text.count(old) != 1:
        raise AssertionError(f"the previous-release state of {where} no longer applies: {old[:60]!r} not found once")
    return text.replace(old, new)


def _old_mfextinit(root: Path) -> None:
    """Synthetic plumbing fix: the older registration module imports the engine module, and with
    it the engine SDK, at `import metaflow` time (pitfall O5); the release removes the import."""
    path = root / MFEXTINIT
    text = path.read_text()
    end = text.index('"""', text.index('"""') + 3) + 4  # after the module docstring's closing line
    path.write_text(text[:end] + OLD_MFEXTINIT_LINE + text[end:])


def _old_noxfile(root: Path) -> None:
    """0.1.0's update session: see OLD_UPDATE_SESSION."""
    path = root / NOXFILE
    text = path.read_text()
    start, end = text.index("# Conflict markers `copier update"), text.index('if __name__ == "__main__":')
    text = text[:start] + OLD_UPDATE_SESSION + text[end:]
    text = _replace_once(text, "import json\nimport os\nimport re\nimport shutil\nimport subprocess\nimport sys\n",
                         "import os\nimport re\nimport sys\n", NOXFILE)
    path.write_text(text)


def _old_workflows(root: Path) -> None:
    """0.1.0 had no scheduled template-update check."""
    (root / UPDATE_WORKFLOW).unlink()


def _old_copier_yml(root: Path) -> None:
    """0.1.0 accepted any non-empty author (a double quote broke the generated pyproject.toml)
    and had no migrations."""
    path = root / "copier.yml"
    config = yaml.safe_load(path.read_text())
    config["author"]["validator"] = "{% if not author.strip() %}author must not be empty{% endif %}"
    for key in ("_migrations", "_message_after_update"):
        config.pop(key, None)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=1000))


PREVIOUS_RELEASE: List[Callable[[Path], None]] = [_old_mfextinit, _old_noxfile, _old_workflows, _old_copier_yml]


def rename_template_file(new_name: str, old_name: str) -> Callable[[Path], None]:
    """A `previous_release` change: the file the template renders at `new_name` (a generated path,
    e.g. ``tests/test_engine.py``) was rendered at `old_name` by the previous release.

    Renames every source file under template/ whose rendered name ends in `new_name` (its conditional
    ``{% if ... %}`` variants included) and the matching `_skip_if_exists` entry, so a file that is
    user-owned now was user-owned under its old name too."""
    new_dir, new_base = new_name.rpartition("/")[0], new_name.rpartition("/")[2]
    old_dir, old_base = old_name.rpartition("/")[0], old_name.rpartition("/")[2]
    if new_dir != old_dir:
        raise ValueError("rename_template_file renames within one directory")

    def change(root: Path) -> None:
        folder = root / "template" / new_dir
        renders = re.compile(r"(?:^|[}\s])" + re.escape(new_base) + r"(?:\{%|\.jinja$|$)")
        sources = [p for p in folder.iterdir() if p.is_file() and renders.search(p.name)]
        if not sources:
            raise AssertionError(f"no template source renders {new_name}: the previous-release state no longer applies")
        for source in sources:
            source.rename(source.with_name(source.name.replace(new_base, old_base)))
        path = root / "copier.yml"
        config = yaml.safe_load(path.read_text())
        skip = config.get("_skip_if_exists", [])
        config["_skip_if_exists"] = [old_name if entry == new_name else entry for entry in skip]
        path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=1000))

    return change


def add_migration(version: str, command: List[str], stage: str = "before", when: Optional[str] = None) -> Callable[[Path], None]:
    """A `this_release` change: one more `_migrations` entry in copier.yml (comments are dropped)."""

    def change(root: Path) -> None:
        path = root / "copier.yml"
        config = yaml.safe_load(path.read_text())
        entry = {"version": version, "when": when or f"{{{{ _stage == '{stage}' }}}}", "command": command}
        # Before the unversioned entries (the closing update report stays last).
        migrations = config.get("_migrations", [])
        at = next((i for i, m in enumerate(migrations) if isinstance(m, dict) and "version" not in m), len(migrations))
        config["_migrations"] = [*migrations[:at], entry, *migrations[at:]]
        path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=1000))

    return change


def recorded_release(version: str) -> str:
    """The commit releases.toml records for `version`."""
    import tomllib

    releases = tomllib.loads((REPO / "releases.toml").read_text())["releases"]
    if version not in releases:
        raise KeyError(f"release {version} is not recorded in releases.toml")
    return releases[version]


def released_tree(version: str) -> Callable[[Path], None]:
    """A `previous_release` change: copier.yml, template/ and migrations/ exactly as the recorded
    release `version` had them (read from this repository's history; a shallow clone lacks it)."""

    def change(root: Path) -> None:
        commit = recorded_release(version)
        for part in TEMPLATE_PARTS:
            target = root / part
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        archive = subprocess.run(["git", "archive", "--format=tar", commit, *TEMPLATE_PARTS], cwd=REPO,
                                 capture_output=True, timeout=120)
        if archive.returncode != 0:
            raise RuntimeError(f"git archive of release {version} ({commit[:12]}) failed: {archive.stderr.decode()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(root, filter="data")

    return change


def _copy_template(dst: Path) -> None:
    for part in TEMPLATE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dst / part, ignore=CACHES)
        else:
            shutil.copy2(src, dst / part)


def build_template_repo(
    dst: Path,
    previous_release: Sequence[Callable[[Path], None]] = PREVIOUS_RELEASE,
    this_release: Sequence[Callable[[Path], None]] = (),
    old_tag: str = OLD_TAG,
    new_tag: str = NEW_TAG,
) -> Path:
    """``dst``: a git repository of the template, `old_tag` = this tree changed by `previous_release`,
    `new_tag` = this tree changed by `this_release` (nothing by default: the tree as it is)."""
    dst.mkdir(parents=True)
    git(dst, "init", "-q", "-b", "main")
    _copy_template(dst)
    for change in previous_release:
        change(dst)
    commit_all(dst, f"metaflow-extension-template {old_tag}")
    git(dst, "tag", old_tag)
    for part in TEMPLATE_PARTS:
        target = dst / part
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    _copy_template(dst)
    for change in this_release:
        change(dst)
    commit_all(dst, f"metaflow-extension-template {new_tag}")
    git(dst, "tag", new_tag)
    return dst


def read_tree(root: Path) -> Dict[str, bytes]:
    """Every file of a generated repository (outside .git and caches), by relative path."""
    skip = {".git", ".venv", ".nox", "__pycache__", ".pytest_cache", ".ruff_cache", ".mfx_cache", ".metaflow"}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not skip.intersection(path.relative_to(root).parts)
    }


OWNED_HEADER = b"# Generated by metaflow-extension-template: template-owned, do not edit."
CONFLICT_MARKER = re.compile(rb"^(<<<<<<< |>>>>>>> |=======$)", re.MULTILINE)


def template_owned(tree: Dict[str, bytes]) -> List[str]:
    """The files whose first line is the template-owned header."""
    return [name for name, data in tree.items() if data.startswith(OWNED_HEADER)]
