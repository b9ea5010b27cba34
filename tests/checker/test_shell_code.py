"""The shell-command carriers in the engine (mfx.engine.shellcode): positions in the host file,
``# noqa`` in each carrier's own syntax, the applicability gate (no trigger words: never parsed),
the cache and parallel runs. The recall per carrier is tests/checker/test_shell_commands.py."""

from __future__ import annotations

import contextlib
import io
import json
import os
import textwrap
from pathlib import Path

import pytest
from mfx.analysis import shell
from mfx.engine import shellcode
from mfx.engine.embedded import find_embedded

YAML = """\
spec:
  templates:
    - name: task
      script:
        source: |
          python flow.py --quiet \\
            step start --run-id {{workflow.uid}} --task-id t-1 \\
            --retry-count 0 --max-user-code-retries 2{noqa}
"""


def _check(root: Path, *extra: str) -> list[tuple[str, int, int, str]]:
    from mfx.cli import main

    out, old = io.StringIO(), Path.cwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            main(["check", ".", "--output-format", "json", "--exit-zero", *(extra or ("--no-cache", "-j", "1"))])
    finally:
        os.chdir(old)
    return sorted(
        (Path(d["filename"]).relative_to(root).as_posix(), d["location"]["row"], d["location"]["column"], d["code"])
        for d in json.loads(out.getvalue())
    )


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _codes(found, path, line):
    return {code for p, row, _col, code in found if p == path and row == line}


def test_yaml_finding_points_at_the_word(tmp_path):
    found = _check(_write(tmp_path, {"orch/wf.yaml": YAML.format(noqa="")}))
    assert ("orch/wf.yaml", 8, 13, "MFX201") in found  # the `--retry-count` word of the script
    assert ("orch/wf.yaml", 7, 13, "MFX205") in found  # a missing piece: at the `step` word


@pytest.mark.parametrize(
    "files, path, line",
    [
        ({"orch/wf.yaml": YAML.format(noqa="  # noqa: MFX201")}, "orch/wf.yaml", 8),
        (  # JSON: a "noqa" comment inside a string on the line ...
            {"orch/task.json": """\
                {"args": ["python", "flow.py", "step", "s", "--run-id", "$R", "--task-id", "t-$I",
                          "--retry-count", "0"], "$comment": "# noqa: MFX201"}
                """},
            "orch/task.json", 2,
        ),
        (  # ... a shell comment closing a script string ...
            {"orch/task.json": """\
                {"script": "python flow.py step s --run-id $R --task-id t-$I --retry-count 0  # noqa: MFX201"}
                """},
            "orch/task.json", 1,
        ),
        (  # ... or a JSONC comment
            {"orch/task.jsonc.json": """\
                {"args": ["python", "flow.py", "step", "s", "--run-id", "$R", "--task-id", "t-$I",
                          "--retry-count", "0"]  // noqa: MFX201
                }
                """},
            "orch/task.jsonc.json", 2,
        ),
        (  # Python: the host's comment after the string, as for any multi-line string
            {"orch/scripts.py": '''\
                SCRIPT = """
                python {flow} step {step} --run-id {run} --task-id t-{task} \\\\
                    --retry-count 0
                """  # noqa: MFX201
                '''},
            "orch/scripts.py", 3,
        ),
        (  # a shell template: a shell comment
            {"orch/task.sh.j2": """\
                {{ python }} {{ flow }} step {{ step }} --run-id {{ run }} --task-id t-1 --retry-count 0  # noqa: MFX201
                """},
            "orch/task.sh.j2", 1,
        ),
    ],
    ids=["yaml", "json-member", "json-shell-comment", "jsonc", "python-constant", "template"],
)
def test_noqa_in_the_carriers_syntax(tmp_path, files, path, line):
    found = _check(_write(tmp_path, files))
    assert "MFX201" not in _codes(found, path, line), found
    assert any(code == "MFX205" for p, _r, _c, code in found if p == path), found  # other codes still reported
    bare = {p: t.replace("# noqa: MFX201", "").replace("// noqa: MFX201", "") for p, t in files.items()}
    bare = {p: t.replace('"$comment": ""', '"$comment": "x"') for p, t in bare.items()}
    assert "MFX201" in _codes(_check(_write(tmp_path / "bare", bare)), path, line)


def test_file_wide_noqa(tmp_path):
    found = _check(_write(tmp_path, {"orch/wf.yaml": "# mfx: noqa: MFX201\n" + YAML.format(noqa="")}))
    codes = {code for *_x, code in found}
    assert "MFX201" not in codes and "MFX205" in codes


def test_files_without_the_words_are_never_parsed(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("parsed")

    monkeypatch.setattr(shellcode, "_yaml_nodes", boom)
    monkeypatch.setattr(shellcode, "_json_nodes", boom)
    monkeypatch.setattr(shellcode, "_python_commands", boom)
    monkeypatch.setattr(shell, "parse", boom)
    big = "items:\n" + "".join(f"  - name: step-{i}\n    run: python flow.py step x --run {i}\n" for i in range(3000))
    assert find_embedded("orch/big.yaml", big) == []
    assert find_embedded("orch/big.json", json.dumps({"steps": ["step"] * 5000, "init": 1})) == []
    with pytest.raises(AssertionError):  # the words are there: it is parsed
        find_embedded("orch/wf.yaml", YAML.format(noqa=""))


def test_not_carriers():
    text = "run: python flow.py step s --run-id 1 --task-id t-1 --retry-count 0\n"
    for path in ("docs/wf.yaml", ".github/workflows/ci.yml", "pkg/doc/x.json", "README.md", "notes.txt"):
        assert find_embedded(path, text) == [], path
    assert find_embedded("pkg/wf.yaml", text) != []


def test_a_document_that_does_not_parse_is_read_as_shell_text():
    text = "script: |\n  python flow.py step s --run-id 1 --task-id t-1 --retry-count 0\n bad: [\n"
    (piece,) = find_embedded("pkg/wf.yaml", text)
    assert "'--retry-count'" in piece.text


def test_cache_and_parallel_runs_agree(tmp_path):
    root = _write(tmp_path / "p", {
        "orch/wf.yaml": YAML.format(noqa=""),
        "orch/task.sh": "python flow.py step s --run-id $R --task-id t-$I --retry-count 0\n",
        **{f"orch/m{i}.py": f"def f{i}(x):\n    return [x, {i}]\n" * 200 for i in range(6)},
    })
    cold = _check(root)
    cache = str(tmp_path / "cache")
    assert _check(root, "--cache-dir", cache, "-j", "1") == cold
    assert _check(root, "--cache-dir", cache, "-j", "1") == cold  # warm
    assert _check(root, "--no-cache", "-j", "2") == cold
    assert any(p == "orch/task.sh" for p, *_ in cold)


_ALPHABET = "pythonflw.stepinit -_{}[]()\"'\\\n\t#$%&|;:,<>`=0123456789/runtaskid"


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".sh", ".sh.j2", ".py"])
def test_never_crashes_on_arbitrary_text(suffix):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(st.text(alphabet=_ALPHABET, max_size=300))
    def fuzz(body):
        text = "python flow.py step s --run-id r --task-id t\n" + body
        for piece in find_embedded("pkg/x" + suffix, text):
            compile(piece.text, piece.path, "exec")  # the virtual module is always Python

    fuzz()
