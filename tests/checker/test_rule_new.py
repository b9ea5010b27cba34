"""`mfx rule new`: the scaffold is a rule module the suite loads, whose placeholders fail the
example test until they are filled in, and which passes every per-rule check once they are."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mfx import pitfalls as catalogue
from mfx.cli import main
from mfx.engine.runner import lint_sources
from mfx.rule import ProjectRule, Rule
from mfx.ruledocs import REQUIRED_SECTIONS, docstring, sections
from mfx.testing import TODO_MARKER, check_examples

MFX_PACKAGE = Path(__file__).resolve().parents[2] / "checker" / "src" / "mfx"


def _load(path: Path):
    """Import a generated rule module from ``path`` and return its rule class."""
    spec = importlib.util.spec_from_file_location(f"scaffolded_{path.stem}_{id(path)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, (Rule, ProjectRule))
             and v.__module__ == module.__name__]
    assert len(found) == 1, found
    return found[0]


def _new(tmp_path: Path, *argv: str, capsys) -> tuple[int, str, str]:
    code = main(["rule", "new", *argv, "--rules-dir", str(tmp_path)])
    out = capsys.readouterr()
    return code, out.out, out.err


def _fill(text: str, replacements: dict) -> str:
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def _fill_docs(text: str, todo_lines: list) -> str:
    """Replace each TODO line of the docstring and message, in order."""
    lines = text.splitlines(keepends=True)
    it = iter(todo_lines)
    for i, line in enumerate(lines):
        if TODO_MARKER in line:
            lines[i] = next(it)
    assert next(it, None) is None, "a TODO line left unfilled by the test"
    return "".join(lines)


FILE_DOCS = [
    '"""MFX390: `os.system` in an extension module."""\n',
    "    Flags calls of `os.system`.\n",
    "    The shell drops the task's exit code and environment (pitfall B12).\n",
    "    os.system(cmd)\n",
    "    subprocess.run(argv, check=True)\n",
    '    message = "`os.system` loses the exit code: use subprocess.run(argv, check=True)"\n',
]


@pytest.mark.parametrize("pitfall_arg", [["--pitfall", "B12"], ["--pitfall", "b12,B12"]])
def test_file_rule_scaffold_fails_until_filled_in_then_passes(tmp_path, capsys, pitfall_arg):
    code, out, err = _new(tmp_path, "MFX390", "os-system-called", *pitfall_arg, capsys=capsys)
    assert code == 0, err
    path = tmp_path / "mfx390_os_system_called.py"
    assert out.startswith(f"wrote {path}")
    rule = _load(path)
    assert issubclass(rule, Rule)
    assert (rule.code, rule.name, rule.pitfalls) == ("MFX390", "os-system-called", ("B12",))
    # The documentation sections and the declared pitfall are there from the start.
    found = sections(docstring(rule))
    assert all(found.get(title) for title in REQUIRED_SECTIONS)
    assert set(catalogue.cited(found["Why is this bad?"])) == {"B12"}
    problems = check_examples(rule)
    assert any("VALID[0]: a placeholder" in p for p in problems), problems
    assert any("INVALID[0]: a placeholder" in p for p in problems), problems
    assert any("docstring still holds" in p for p in problems), problems
    assert any("message still holds" in p for p in problems), problems

    text = _fill_docs(path.read_text(), FILE_DOCS)
    text = _fill(text, {
        "Valid(PLACEHOLDER)": 'Valid("import subprocess\\nsubprocess.run([\'ls\'], check=True)\\n")',
        "Invalid(PLACEHOLDER)": 'Invalid("import os\\n\\nos.system(\'ls\')\\n", line=3, column=1, message="exit code")',
        "        return False\n": textwrap.indent(textwrap.dedent("""\
            func = node.func
            return (isinstance(func, cst.Attribute) and func.attr.value == "system"
                    and isinstance(func.value, cst.Name) and func.value.value == "os")
            """), " " * 8),
    })
    path.write_text(text)
    rule = _load(path)
    assert check_examples(rule) == []
    assert TODO_MARKER not in path.read_text()
    got = lint_sources({"a.py": "import os\nos.system('x')\nos.system('y')\n"}, [rule])
    assert [(d.code, d.line) for d in got] == [("MFX390", 2), ("MFX390", 3)]

    # A filled-in example that does not hold is reported as such, not as a placeholder.
    path.write_text(text.replace("line=3, column=1", "line=2, column=1"))
    problems = check_examples(_load(path))
    assert len(problems) == 1 and "line 2" in problems[0] and "placeholder" not in problems[0], problems


def test_project_rule_scaffold_fails_until_filled_in_then_passes(tmp_path, capsys):
    code, _, err = _new(tmp_path, "391", "orphan-helper-module", "--base", "project", capsys=capsys)
    assert code == 0, err
    path = tmp_path / "mfx391_orphan_helper_module.py"
    rule = _load(path)
    assert issubclass(rule, ProjectRule) and rule.code == "MFX391" and rule.pitfalls == ()
    assert any("placeholder" in p for p in check_examples(rule))

    text = _fill_docs(path.read_text(), [
        '"""MFX391: a call of a function that no file of the project defines."""\n',
        "    Flags calls of `helper()` when no module of the project defines `helper`.\n",
        "    The call fails with NameError when the task runs.\n",
        "    helper()\n",
        "    def helper(): ...\n",
        '    message = "no module of the project defines `helper`"\n',
    ])
    text = _fill(text, {
        "Valid(PLACEHOLDER)": 'Valid({"a.py": "helper()\\n", "b.py": "def helper():\\n    pass\\n"})',
        "Invalid(PLACEHOLDER)": 'Invalid({"a.py": "x = 1\\nhelper()\\n"}, count=1, line=2, column=1, path="a.py")',
        "        for path, file in sorted(project.files.items()):\n": textwrap.indent(textwrap.dedent("""\
            defined = {f.name.value for file in project for f in file.nodes(cst.FunctionDef)}
            if "helper" in defined:
                return
            for path, file in sorted(project.files.items()):
            """), " " * 8),
        "        return False\n": (
            '        return isinstance(node.func, cst.Name) and node.func.value == "helper"\n'
        ),
    })
    path.write_text(text)
    rule = _load(path)
    assert check_examples(rule) == []


@pytest.mark.parametrize(
    "argv, says",
    [
        (["MFX201", "brand-new-name"], "MFX201 exists already"),
        (["MFX392", "retry-count-hard-coded"], "taken by MFX201"),
        (["MFX39", "x"], "bad rule code"),
        (["XYZ392", "x"], "bad rule code"),
        (["MFX000", "x"], "belongs to the engine"),
        (["MFX999", "x"], "belongs to the engine"),
        (["MFX392", "Not_Kebab"], "bad rule name"),
        (["MFX392", "x--y"], "bad rule name"),
        # (the unknown id is spelled in two pieces: the catalogue test rejects any unknown id in a text)
        (["MFX392", "fine-name", "--pitfall", "O12,O" + "99"], "unknown pitfall O" + "99"),
        (["MFX392", "fine-name", "--pitfall", "X1"], "unknown pitfall"),
        (["MFX392", "fine-name", "--base", "module"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, says):
    # A copy of two real rule modules, so "taken" is judged against what is in the directory.
    for name in ("mfx201_retry_count_hard_coded.py", "mfx202_retry_count_one_based.py"):
        shutil.copy(MFX_PACKAGE / "rules" / name, tmp_path / name)
    before = sorted(os.listdir(tmp_path))
    code, out, err = _new(tmp_path, *argv, capsys=capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == before


def test_missing_rules_dir_is_an_error(tmp_path, capsys):
    code = main(["rule", "new", "MFX392", "x", "--rules-dir", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2 and "no such directory" in err and len(err.strip().splitlines()) == 1


def test_scaffold_in_a_copy_of_the_package_is_a_rule_of_the_suite(tmp_path):
    """Without --rules-dir the module lands in mfx/rules of the installed package: the registry,
    `mfx rule` and the example test see it at once (run in a copy of the package)."""
    shutil.copytree(MFX_PACKAGE, tmp_path / "mfx", ignore=shutil.ignore_patterns("__pycache__", "compliance"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    new = subprocess.run([sys.executable, "-m", "mfx.cli", "rule", "new", "MFX393", "some-new-thing", "--pitfall", "O12"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert new.returncode == 0, new.stderr
    assert (tmp_path / "mfx" / "rules" / "mfx393_some_new_thing.py").is_file()
    probe = textwrap.dedent("""
        import mfx
        from mfx.engine.runner import all_rules, LOAD_ERRORS
        from mfx.testing import check_examples
        assert mfx.__file__.startswith(%r), mfx.__file__
        assert not LOAD_ERRORS, LOAD_ERRORS
        rule = {r.code: r for r in all_rules()}["MFX393"]
        print("\\n".join(check_examples(rule)))
    """) % str(tmp_path)
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "MFX393 VALID[0]: a placeholder" in run.stdout and "MFX393 INVALID[0]: a placeholder" in run.stdout
    shown = subprocess.run([sys.executable, "-m", "mfx.cli", "rule", "MFX393"], capture_output=True, text=True,
                           env=env, timeout=120)
    assert shown.returncode == 0 and "some-new-thing" in shown.stdout, shown.stderr
