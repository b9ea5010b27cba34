"""One run over several distributions lints each as its own project (mfx.engine.projects): a
project rule's answer never comes from another extension, serially, in parallel and from the
cache."""

from __future__ import annotations

from pathlib import Path

from mfx.config import FileConfig, build_settings
from mfx.engine.lint import lint_paths
from mfx.engine.projects import project_groups

BUILDER = '''
def step_command(python, flow_file, node, run_id, task_id, attempt, retries):
    return [python, flow_file, "--quiet", "step", node.name, "--run-id", run_id,
            "--task-id", task_id, "--retry-count", attempt, "--max-user-code-retries", retries]
'''
# Enough code that a parallel run (PARALLEL_MIN_BYTES) really starts worker processes.
FILLER = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(4000))


def write(root: Path, files: dict[str, str]) -> list[Path]:
    out = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        out.append(path)
    return out


def two_extensions(root: Path) -> list[Path]:
    """``good`` sets METAFLOW_OWNER for its tasks, ``bad`` does not; one is a source checkout,
    the other an unpacked wheel."""
    return sorted(
        write(
            root,
            {
                "good/pyproject.toml": "[project]\nname = 'good'\nversion = '1'\n",
                "good/src/good_ext/compiler.py": BUILDER + '\ndef env(user):\n    return {"METAFLOW_OWNER": user}\n',
                "good/src/good_ext/filler.py": FILLER,
                "bad/bad_ext-1.0.dist-info/METADATA": "Name: bad\n",
                "bad/metaflow_extensions/bad/compiler.py": BUILDER,
                "bad/metaflow_extensions/bad/filler.py": FILLER,
            },
        )
    )


def owner_findings(root: Path, files: list[Path], **kwargs) -> list[str]:
    settings = build_settings(FileConfig(root=root), select=["MFX207"])
    result = lint_paths([f for f in files if f.suffix == ".py"], settings, **kwargs)
    return sorted(f"{d.path}:{d.code}" for d in result.diagnostics)


def test_groups_follow_the_nearest_distribution_marker(tmp_path: Path) -> None:
    files = two_extensions(tmp_path) + write(
        tmp_path,
        {
            "loose.py": "x = 1\n",
            "good/src/good_ext.egg-info/PKG-INFO": "",  # egg-info is no marker (src layout)
            "good/tests/test_x.py": "x = 1\n",
        },
    )
    groups = {tuple(sorted(p.relative_to(tmp_path).as_posix() for p in g)) for g in project_groups(files, tmp_path)}
    assert groups == {
        ("loose.py",),
        (
            "good/pyproject.toml",
            "good/src/good_ext.egg-info/PKG-INFO",
            "good/src/good_ext/compiler.py",
            "good/src/good_ext/filler.py",
            "good/tests/test_x.py",
        ),
        (
            "bad/bad_ext-1.0.dist-info/METADATA",
            "bad/metaflow_extensions/bad/compiler.py",
            "bad/metaflow_extensions/bad/filler.py",
        ),
    }


def test_a_single_project_is_one_group(tmp_path: Path) -> None:
    files = write(tmp_path, {"pyproject.toml": "", "a/b.py": "", "c.py": "", "d/setup.cfg.txt": ""})
    assert [sorted(files)] == [sorted(g) for g in project_groups(sorted(files), tmp_path)]


def test_one_extension_never_answers_for_another(tmp_path: Path) -> None:
    files = two_extensions(tmp_path)
    want = ["bad/metaflow_extensions/bad/compiler.py:MFX207"]
    assert owner_findings(tmp_path, files, jobs=1, use_cache=False) == want
    assert owner_findings(tmp_path, files, jobs=2, use_cache=False) == want


def test_the_cache_keeps_each_projects_findings(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    files = two_extensions(root)
    settings = build_settings(FileConfig(root=root, cache_dir=str(tmp_path / "cache")), select=["MFX207"])
    py = [f for f in files if f.suffix == ".py"]
    cold = lint_paths(py, settings, jobs=2)
    warm = lint_paths(py, settings, jobs=2)
    assert warm.from_cache == len(py) and cold.from_cache == 0
    assert [(d.path, d.code) for d in warm.diagnostics] == [(d.path, d.code) for d in cold.diagnostics]
    assert [d.path for d in warm.diagnostics] == ["bad/metaflow_extensions/bad/compiler.py"]
