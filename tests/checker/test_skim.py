"""The skim stays exact: a file is left unparsed only when no enabled rule's trigger words occur.

``mfx.applicability.FileWords`` answers the trigger-word questions of one file once for all
rules (and for the project rules and the embedded-code finders of the run, through
``file_words``), and in a big text (``_BIG_TEXT`` or more) it derives answers from words it
already found missing (``atexit`` from ``exit``) and from a word's identifier runs (``"step"``
from ``step``). Here every answer is compared with the plain substring test it replaces, and
big modules holding a rule's words in odd places (a comment, a string, a docstring, the middle
of a longer name, another case, the package name, a YAML script, a template, code held in a
string) are checked to be parsed, never skimmed.
"""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

import pytest
from mfx.applicability import (
    _BIG_TEXT,
    ALWAYS,
    FileWords,
    _cores,
    all_of,
    applicable,
    file_words,
    forget_file_words,
    trigger_groups,
)
from mfx.engine.lint import needs_parse
from mfx.engine.runner import all_rules
from mfx.rule import Rule
from mfx.selection import PerFileIgnores

FILE_RULES = [r for r in all_rules() if issubclass(r, Rule)]
GATED = [r for r in FILE_RULES if r.TRIGGERS not in (None, ALWAYS)]
ALL_CODES = [r.code for r in all_rules()]
NO_IGNORES = PerFileIgnores({})


def _filler(size: int) -> str:
    """Generated code naming no rule's words (checked below), at least ``size`` characters."""
    chunks, n, i = [], 0, 0
    while n < size:
        chunk = f"def handler_{i}(payload, retries=3):\n    table = {{'key_{i}': [payload, retries, {i}]}}\n    return table\n\n\n"
        chunks.append(chunk)
        n += len(chunk)
        i += 1
    return "".join(chunks)


FILLER = _filler(_BIG_TEXT + 4096)  # big enough for the memoised, derived answers


def _words_of(rule) -> list[str]:
    return sorted({w for g in trigger_groups(rule.TRIGGERS) for w in g})


def _every_word() -> list[str]:
    """Every trigger word, plus the words the project rules and finders search for."""
    extra = ["--run-id", "--task-id", "--retry-count", "--tag", "--branch", "--production", '"""', "'''",
             "_DESC", "CLIS_DESC", "group", "StepDecorator", "METAFLOW_", "init", "type", "pathspec", "="]
    return sorted({w for r in GATED for w in _words_of(r)} | set(extra))


def test_the_filler_names_no_trigger_word():
    assert not needs_parse("pkg/generated.py", FILLER, ALL_CODES, NO_IGNORES)
    assert not file_words(FILLER, "pkg/generated.py").escaped
    forget_file_words()


@pytest.mark.parametrize("seed", range(6))
def test_answers_equal_the_plain_substring_tests(seed):
    """Random big texts holding random words (in any case, cut, glued to others), asked in a
    random order: ``has``/``mentions``/``any_of`` are exactly the substring tests."""
    rng = random.Random(seed)
    words = _every_word()
    pieces = [w for w in words if rng.random() < 0.3]
    text = FILLER
    for w in pieces:
        variant = rng.choice([w, w.upper(), w.title(), w[: max(1, len(w) - 1)], "x" + w + "_y", w[1:]])
        at = rng.randrange(len(text))
        text = text[:at] + variant + text[at:]
    package = rng.choice(["", "pkg", "acme.click_plugins", "metaflow_extensions.x.plugins"])
    fw = FileWords(text, package, "a/b.py")
    lowered = (text + "\n" + package).lower()
    queries = words + [w.lower() for w in words] + [w.upper() for w in words]
    rng.shuffle(queries)
    for w in queries:
        assert fw.has(w.lower()) == (w.lower() in lowered), w
        assert fw.mentions(w) == (w in text), w
        assert fw.has(w.lower()) == (w.lower() in lowered), w  # asked again: from memory
    for _ in range(50):
        group = tuple(rng.sample([w.lower() for w in words], 3))
        assert fw.any_of(group) == any(w in lowered for w in group)


def test_derived_answers():
    fw = FileWords(FILLER + "atexit_handlers = 1\n", "", "m.py")
    assert _cores('"step"') == ("step",) and _cores("--retry-count") in (("retry", "count"), ("count", "retry"))
    assert _cores("stepdecorator") == ()
    assert fw.has("exit") and fw.has("atexit")
    assert not fw.has("step") and not fw.has('"step"') and not fw.has("stepdecorator")
    assert not fw.has("retry") and not fw.has("--retry-count")


def _placements(word: str) -> dict[str, str]:
    """Snippets holding ``word`` verbatim (one: in another case) in odd places, each valid
    Python. A word with a quote (``"start"``) is its own string literal."""
    quoted = "'" in word or '"' in word
    dq = word if quoted else f'"{word}"'
    sq = word if quoted else f"'{word}'"
    return {
        "comment": f"# see {word} below\n",
        "string": f"NOTE = {dq}\n",
        "single-quoted": f"NOTE = {sq}\n",
        "docstring": f"def documented():\n    \"\"\"Calls {word} somewhere.\"\"\"\n",
        "inside a name": "value = 1  # x" + word.replace(" ", "_") + "y\n",
        "other case": f"# {word.swapcase()}\n",
        "f-string": f"msg = f{dq}\n" if not quoted else f"msg = f{word}\n",
    }


@pytest.mark.parametrize("rule", GATED, ids=lambda r: r.code)
def test_a_big_file_with_a_rules_words_anywhere_is_parsed(rule):
    """For each word of each group (with a word of every other group), in each odd place, at the
    start, middle or end of a big module: the rule applies and the file is not skimmed, whether
    the other rules' words were searched first (all rules enabled) or not (the rule alone)."""
    groups = [tuple(g) for g in trigger_groups(rule.TRIGGERS)]
    for gi, group in enumerate(groups):
        for word in group:
            chosen = [word] + [g[0] for j, g in enumerate(groups) if j != gi]
            for place, _ in _placements(word).items():
                snippet = "".join(_placements(w)[place] for w in chosen)
                for where in ("start", "middle", "end"):
                    half = len(FILLER) // 2
                    text = {
                        "start": snippet + FILLER,
                        "middle": FILLER[:half] + "\n" + snippet + FILLER[half:],
                        "end": FILLER + snippet,
                    }[where]
                    if rule.FILE_NAMES:
                        path = f"pkg/{rule.FILE_NAMES[0]}"
                    else:
                        path = "pkg/generated.py"
                    for codes in (ALL_CODES, [rule.code]):
                        forget_file_words()
                        assert needs_parse(path, text, codes, NO_IGNORES), (rule.code, word, place, where, codes)
                    assert applicable(rule.TRIGGERS, FileWords(text, "pkg", path), rule.FILE_NAMES)
    forget_file_words()


def test_the_package_name_counts():
    """A word in the package path is a relative import's name: the file is not skimmed."""
    assert needs_parse("acme/click/generated.py", FILLER, ["MFX102"], NO_IGNORES)
    assert not needs_parse("acme/other/generated.py", FILLER, ["MFX102"], NO_IGNORES)
    forget_file_words()


def test_a_shared_entry_follows_the_text():
    """``file_words`` shares an entry only while the same text object is asked for: an edited
    file (``--fix`` passes, tests) gets a fresh one."""
    a = file_words(FILLER, "pkg/m.py")
    assert file_words(FILLER, "pkg/m.py") is a
    edited = FILLER + "import click\n"
    b = file_words(edited, "pkg/m.py")
    assert b is not a and b.has("click") and not a.has("click")
    forget_file_words()


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _check(root: Path, jobs: int = 1) -> list[tuple[str, str]]:
    import contextlib
    import io
    import os

    from mfx.cli import main

    out, old = io.StringIO(), Path.cwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            main(["check", ".", "--no-cache", "-j", str(jobs), "--output-format", "json", "--exit-zero"])
    finally:
        os.chdir(old)
    return sorted((Path(d["filename"]).relative_to(root).as_posix(), d["code"]) for d in json.loads(out.getvalue()))


_SCRIPT = "python flow.py --quiet step start --run-id $RUN --task-id t-1 --retry-count 0 --max-user-code-retries 2"


@pytest.mark.parametrize("jobs", [1, 2])
def test_big_carriers_with_a_task_command_are_read(tmp_path, jobs):
    """Task commands in a big YAML script block, a big JSON document, a shell template and a
    string constant of a big Python module (whose other text names nothing) are found."""
    yaml_filler = "".join(f"  - name: job-{i}\n    script: |\n      python run.py --shard {i}\n" for i in range(1500))
    files = {
        "orch/wf.yaml": "jobs:\n" + yaml_filler + f"  - name: task\n    script: |\n      {_SCRIPT}\n",
        "orch/task.json": json.dumps(
            {"jobs": [{"id": f"n{i}", "cmd": ["python", "run.py", str(i)]} for i in range(2500)] + [{"id": "task", "script": _SCRIPT}]},
            indent=1,
        ),
        "orch/task.sh.j2": "# " + "x" * _BIG_TEXT + "\n{{ python }} flow.py step {{ s }} --run-id {{ r }} --task-id t --retry-count 0\n",
        "orch/gen.py": FILLER + f'SCRIPT = """\n{_SCRIPT}\n"""\n',
    }
    for path, text in files.items():
        assert len(text) >= _BIG_TEXT, path
    found = _check(_write(tmp_path, files), jobs)
    for path in files:
        assert (path, "MFX201") in found, (path, found)


@pytest.mark.parametrize("jobs", [1, 2])
def test_code_in_a_big_modules_string_is_linted(tmp_path, jobs):
    """Generated code held in a string of a big module with no rule word outside it: the piece
    names the words (``--retry-count`` in a ``step`` command), so it is parsed and reported."""
    template = textwrap.dedent('''\
        WORKER = """
        import subprocess

        def run_task(flow, step, run_id, task_id):
            cmd = ["python", flow, "step", step, "--run-id", run_id, "--task-id", task_id, "--retry-count", "0"]
            subprocess.run(cmd, check=True)
        """
        ''')
    found = _check(_write(tmp_path, {"orch/gen.py": FILLER + template}), jobs)
    assert ("orch/gen.py", "MFX201") in found, found


def test_a_big_module_without_words_is_skimmed_end_to_end(tmp_path, monkeypatch):
    from mfx.engine import runner

    parsed: list[str] = []
    real = runner.ParsedFile.__init__

    def spy(self, path, source, module=None):
        parsed.append(path)
        real(self, path, source, module)

    monkeypatch.setattr(runner.ParsedFile, "__init__", spy)
    found = _check(_write(tmp_path, {"pkg/generated.py": FILLER, "pkg/other.py": FILLER + "import os\nos.environ['X']\n"}))
    assert found == [] and parsed == ["pkg/other.py"], (found, parsed)


def test_all_of_in_a_big_text():
    triggers = all_of(("exit",), ("METAFLOW_EXIT_DISALLOW_RETRY", "202"))
    filler = FILLER.replace("202", "2_2")  # numbered generated code holds 202 (handler_202)
    assert not applicable(triggers, FileWords(FILLER + "x = 202\n", "pkg", "pkg/mod.py"))
    assert not applicable(triggers, FileWords(filler + "sys.exit(1)\n", "pkg", "pkg/mod.py"))
    assert applicable(triggers, FileWords(filler + "sys.EXIT(202)\n", "pkg", "pkg/mod.py"))
    assert applicable(triggers, FileWords(filler + 'sys.exit(1)\nCODE = "2\\x302"\n', "pkg", "pkg/mod.py"))  # escaped
