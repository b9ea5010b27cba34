"""examples/<name>/ equals a fresh copy from examples/answers/<name>.yml (issue 5: drift check).

Template-owned files must match byte for byte; the user-owned ones (copier.yml's
`_skip_if_exists`: engine.py, capabilities.py, ...) are compared too, and every difference is
listed, so a stale example says exactly which files to regenerate
(`python tools/regenerate_examples.py`).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from support.generate import REPO

spec = importlib.util.spec_from_file_location("regenerate_examples", REPO / "tools" / "regenerate_examples.py")
regen = importlib.util.module_from_spec(spec)
sys.modules["regenerate_examples"] = regen
spec.loader.exec_module(regen)

NAMES = regen.example_names()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    base = tmp_path_factory.mktemp("examples")
    template = regen.snapshot_template(base / "template-src")
    return {name: regen.render_example(regen.ANSWERS / f"{name}.yml", base / "out" / name, template) for name in NAMES}


def test_the_two_examples_exist():
    kinds = {(a["kind"], a["preset"]) for a in (yaml.safe_load((regen.ANSWERS / f"{n}.yml").read_text()) for n in NAMES)}
    assert {("orchestrator", "temporal"), ("backend", "slurm")} <= kinds
    for name in NAMES:
        assert (regen.EXAMPLES / name / ".copier-answers.yml").is_file(), f"examples/{name} is not generated"


@pytest.mark.parametrize("name", NAMES)
def test_template_owned_files_match_byte_for_byte(fresh, name):
    globs = regen.user_owned_globs()
    committed, new = regen.tree(regen.EXAMPLES / name), regen.tree(fresh[name])
    owned = sorted(p for p in set(committed) | set(new) if regen.template_owned(p, globs))
    assert len(owned) > 20, "the example has (almost) no template-owned files"
    drifted = [p for p in owned if committed.get(p) != new.get(p)]
    assert not drifted, f"examples/{name}: template-owned files drifted: {drifted}; run python tools/regenerate_examples.py"


@pytest.mark.parametrize("name", NAMES)
def test_every_file_matches(fresh, name):
    diffs = regen.differences(regen.EXAMPLES / name, fresh[name])
    assert not diffs, f"examples/{name}:\n" + "\n".join(diffs) + "\nrun python tools/regenerate_examples.py"


@pytest.mark.parametrize("name", NAMES)
def test_no_machine_paths_in_examples(name):
    root = regen.EXAMPLES / name
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == regen.SRC_PATH and (root / answers["_src_path"] / "copier.yml").is_file()
    machine = [str(REPO), tempfile.gettempdir(), str(Path.home())]
    for path, data in regen.tree(root).items():
        text = data.decode("utf-8", "replace")
        assert not any(m in text for m in machine), f"examples/{name}/{path} holds a path of this machine"


def test_check_mode_lists_drifted_files(tmp_path, monkeypatch, capsys):
    """`--check` against a copy of the examples with one template-owned file edited."""
    copy = tmp_path / "examples"
    shutil.copytree(regen.EXAMPLES, copy)
    name = NAMES[0]
    edited = copy / name / "noxfile.py"
    edited.write_text(edited.read_text() + "# local edit\n")
    (copy / name / "stray.txt").write_text("not from the template\n")
    monkeypatch.setattr(regen, "EXAMPLES", copy)
    monkeypatch.setattr(regen, "ANSWERS", copy / "answers")
    assert regen.main(["--check", name]) == 1
    err = capsys.readouterr().err
    assert "noxfile.py: content differs" in err and "stray.txt: extra" in err, err
    assert edited.read_text().endswith("# local edit\n"), "--check must not change anything"
    assert regen.main(["no-such-example"]) == 2
