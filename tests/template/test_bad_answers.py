"""Bad answers are rejected with a clear message and nothing is written (issue 2).

Each row of the table is an invalid answer (or combination). Through the copier API the
question's validator (or copier's choice check) raises a ValueError naming the question; through
`mfx new` the same answer is one line on stderr, exit code 2, no traceback, and DEST is not
created (or left as it was). Plain `copier copy` cannot be changed: it prints the same message,
but after a Python traceback (its CLI only catches its own UserMessageError); `mfx new` is the
supported traceback-free entry.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.generate import render_snapshot, template_snapshot

MFX = str(Path(sys.executable).with_name("mfx"))
COPIER = str(Path(sys.executable).with_name("copier"))


@dataclass(frozen=True)
class Bad:
    """An invalid set of answers, the question the message must name, and a fragment of the fix."""

    answers: dict
    question: str
    fix: str
    copier_rejects: bool = True  # False: only `mfx new` can catch it (copier accepts it silently)


BAD = [
    Bad({"engine_name": "class"}, "engine_name", "pick another"),
    Bad({"engine_name": "My-Engine"}, "engine_name", "kebab-case"),
    Bad({"engine_name": "my_engine"}, "engine_name", "kebab-case"),
    Bad({"engine_name": "1engine"}, "engine_name", "starting with a letter"),
    Bad({"engine_name": "my--engine"}, "engine_name", "single hyphens"),
    Bad({"engine_name": ""}, "engine_name", "kebab-case"),
    Bad({"engine_name": "kubernetes"}, "engine_name", "pick another"),
    Bad({"engine_name": "step-functions"}, "engine_name", "pick another"),
    Bad({"engine_name": "a" * 41}, "engine_name", "longer than 40"),
    Bad({"distribution_name": "-bad-"}, "distribution_name", "PEP 508"),
    Bad({"distribution_name": "my dist"}, "distribution_name", "PEP 508"),
    Bad({"distribution_name": "Metaflow"}, "distribution_name", "pick another"),
    Bad({"author": "   "}, "author", "must not be empty"),
    Bad({"author": 'Ann "the" Author'}, "author", "without double quotes"),
    Bad({"author_email": "not-an-email"}, "author_email", "name@domain.tld"),
    Bad({"author_email": "a b@example.com"}, "author_email", "no spaces"),
    Bad({"python_min": "3.8"}, "python_min", "3.9"),
    Bad({"license": "GPL-3.0"}, "license", "Apache-2.0"),
    Bad({"kind": "scheduler"}, "kind", "orchestrator"),
    Bad({"kind": "orchestrator", "preset": "slurm"}, "preset", "temporal"),
    Bad({"kind": "backend", "preset": "temporal"}, "preset", "slurm"),
    Bad({"kind": "backend", "preset": "airflow"}, "preset", "slurm"),
    Bad({"kind": "orchestrator", "preset": "airflow", "engine_name": "airflow"}, "engine_name", "pick another"),
    Bad({"ci": "maybe"}, "ci", "ci=true", copier_rejects=False),
    Bad({"engine": "my-scheduler"}, "engine", "engine_name", copier_rejects=False),
    Bad({"module_name": "x"}, "module_name", "computed", copier_rejects=False),
    Bad({"kind": "orchestrator", "preset": "blank", "execution": "both"}, "execution", "compiled"),
]


def _id(bad: Bad) -> str:
    return "-".join(f"{k}={v[:12] if isinstance(v, str) else v}" for k, v in bad.answers.items()) or "empty"


def test_the_table_covers_every_question():
    import yaml

    questions = {k for k, v in yaml.safe_load((template_snapshot() / "copier.yml").read_text()).items()
                 if not k.startswith("_") and v.get("when") is not False}
    covered = {b.question for b in BAD}
    assert len(BAD) >= 15
    # devstack is a boolean like ci; every other question has at least one bad answer.
    assert questions - covered == {"devstack"}, questions - covered


@pytest.mark.parametrize("bad", [b for b in BAD if b.copier_rejects], ids=_id)
def test_copier_api_rejects(tmp_path, bad):
    dest = tmp_path / "out"
    with pytest.raises(ValueError) as info:
        render_snapshot(dest, **bad.answers)
    message = str(info.value)
    assert f"'{bad.question}'" in message, message
    assert bad.fix in message, message
    assert not dest.exists(), "copier wrote files for a rejected answer"


def _new_args(dest: Path, answers: dict) -> list:
    data = [a for k, v in answers.items() for a in ("--data", f"{k}={v}")]
    return ["new", str(dest), "--template", str(template_snapshot()), "--defaults", "-q", *data]


def mfx_new(dest: Path, answers: dict, cwd: Path) -> subprocess.CompletedProcess:
    """The installed `mfx` entry point, as a user runs it."""
    return subprocess.run([MFX, *_new_args(dest, answers)], cwd=cwd, capture_output=True, text=True, timeout=300)


def assert_rejected(code: int, stderr: str, bad: Bad, dest: Path) -> None:
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("mfx: error:")]
    assert len(lines) == 1, stderr
    assert f"'{bad.question}'" in lines[0] and bad.fix in lines[0], lines[0]
    assert not dest.exists(), "mfx new left DEST behind"


@pytest.mark.parametrize("bad", BAD, ids=_id)
def test_mfx_new_rejects_without_traceback(tmp_path, capsys, bad):
    """Every row through mfx's CLI entry function, in process (importing copier once keeps the
    table cheap); the rows below also go through the installed executable."""
    from mfx.cli import main

    dest = tmp_path / "out"
    code = main(_new_args(dest, bad.answers))
    assert_rejected(code, capsys.readouterr().err, bad, dest)


# A validator message, a choice error and an answer only mfx new catches, through the executable.
@pytest.mark.parametrize("bad", [BAD[0], BAD[19], BAD[21]], ids=_id)
def test_mfx_new_executable_rejects_without_traceback(tmp_path, bad):
    dest = tmp_path / "out"
    result = mfx_new(dest, bad.answers, tmp_path)
    assert_rejected(result.returncode, result.stderr, bad, dest)


def test_mfx_new_leaves_an_existing_dest_untouched(tmp_path, capsys):
    from mfx.cli import main

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(_new_args(empty, {"engine_name": "class"})) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert empty.is_dir() and not any(empty.iterdir()), "an existing empty DEST must stay as it was"

    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine\n")
    assert main(_new_args(full, {})) == 2  # even good answers: mfx new only creates new repositories
    assert "not an empty directory" in capsys.readouterr().err
    assert [p.name for p in full.iterdir()] == ["keep.txt"] and (full / "keep.txt").read_text() == "mine\n"


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--data", "engine_name"], "expected KEY=VALUE"),
        (["--data-file", "missing.yml"], "missing.yml"),
        (["--data-file", "list.yml"], "expected a mapping"),
        (["--data-file", "number.yml"], "quote it"),
    ],
)
def test_mfx_new_bad_options(tmp_path, monkeypatch, capsys, args, fragment):
    from mfx.cli import main

    (tmp_path / "list.yml").write_text("- kind\n- backend\n")
    (tmp_path / "number.yml").write_text("python_min: 3.10\n")  # YAML reads 3.1, not "3.10"
    monkeypatch.chdir(tmp_path)
    assert main(_new_args(tmp_path / "out", {}) + args) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_mfx_new_without_a_template_nearby(tmp_path, monkeypatch, capsys):
    from mfx.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["new", str(tmp_path / "out"), "--defaults"]) == 2
    err = capsys.readouterr().err
    assert "--template" in err and "Traceback" not in err, err


def test_plain_copier_copy_prints_the_message_after_a_traceback(tmp_path):
    """Documents copier's own behaviour: the validator's message reaches the user, but after a
    traceback and with exit code 1. If this starts failing because copier stopped printing the
    traceback, `mfx new` is no longer needed for a clean message."""
    dest = tmp_path / "out"
    result = subprocess.run(
        [COPIER, "copy", "--trust", "--defaults", "--quiet", "--data", "engine_name=class", str(template_snapshot()), str(dest)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "Validation error for question 'engine_name'" in result.stderr and "pick another" in result.stderr, result.stderr
    assert "Traceback" in result.stderr, "copier no longer prints a traceback for validator errors"
    assert not dest.exists()


def test_a_render_failure_after_valid_answers_leaves_nothing(tmp_path, capsys):
    """A template that breaks while rendering (after every answer was accepted): DEST is removed
    if mfx new created it, and emptied again if it was an empty directory before."""
    from mfx.cli import main

    broken = tmp_path / "broken-template"
    (broken / "template" / "sub").mkdir(parents=True)
    (broken / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: x\n")
    (broken / "template" / "a.txt.jinja").write_text("{{ name }}\n")
    (broken / "template" / "sub" / "z.txt.jinja").write_text("{{ name | no_such_filter }}\n")
    for dest in (tmp_path / "new", tmp_path / "empty"):
        if dest.name == "empty":
            dest.mkdir()
        code = main(["new", str(dest), "--template", str(broken), "--defaults", "-q"])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert "the template failed to render" in err and "no_such_filter" in err, err
        assert (dest.name == "empty") == dest.exists()
        assert not dest.exists() or not any(dest.iterdir()), list(dest.iterdir())


def test_mfx_new_without_copier_installed(tmp_path, monkeypatch, capsys):
    """copier is an optional dependency of mfx: without it, one line saying what to install."""
    from mfx.cli import main

    monkeypatch.setitem(sys.modules, "copier", None)  # what `import copier` sees when it is not installed
    assert main(["new", str(tmp_path / "out"), "--defaults"]) == 2
    err = capsys.readouterr().err
    assert "mfx[template]" in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_unknown_data_key_copier_ignores_it_mfx_new_rejects_it_and_the_docs_say_so(tmp_path):
    """A typo in a `--data` key (`engine` for `engine_name`): plain `copier copy` generates the
    default extension without a word (exit 0); `mfx new` rejects it with one line, exit 2, nothing
    written. The README and getting-started both tell the user, next to the bad-answer note."""
    import yaml
    from support.generate import REPO

    typo = ["--data", "engine=my-scheduler"]
    copied = tmp_path / "copied"
    result = subprocess.run(
        [COPIER, "copy", "--trust", "--defaults", "--quiet", *typo, str(template_snapshot()), str(copied)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "engine" not in result.stderr, f"copier now warns about the unknown key:\n{result.stderr}"
    answers = yaml.safe_load((copied / ".copier-answers.yml").read_text())
    assert "engine" not in answers
    assert answers["engine_name"] == "temporal", "the typo'd value reached the answers: copier changed"
    assert (copied / "metaflow_extensions" / "temporal").is_dir()
    assert not list(copied.rglob("*my_scheduler*")) and not list(copied.rglob("*my-scheduler*"))

    rejected = tmp_path / "rejected"
    new = mfx_new(rejected, {"engine": "my-scheduler"}, tmp_path)
    assert_rejected(new.returncode, new.stderr, Bad({"engine": "my-scheduler"}, "engine", "unknown question"), rejected)
    assert [line for line in new.stderr.splitlines() if line.strip()] == [
        line for line in new.stderr.splitlines() if line.startswith("mfx: error:")
    ], f"mfx new printed more than its one error line:\n{new.stderr}"

    for doc in ("README.md", "docs/getting-started.md"):
        text = " ".join((REPO / doc).read_text().split())
        bad_answer_note = text.index("traceback")  # the bad-answer note the unknown-key note sits next to
        note = text.find("--data engine=my-scheduler", bad_answer_note)
        assert 0 <= note - bad_answer_note < 800, f"{doc}: no unknown --data key note next to the bad-answer note"
        assert "mfx new" in text[note:note + 400] and "unknown question" in text[note:note + 400], doc
