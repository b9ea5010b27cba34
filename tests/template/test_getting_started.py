"""Every command docs/getting-started.md quotes is real: the program's subcommand and options
exist (asked from the installed tool's own --help), nox sessions exist in the generated
noxfile, and the files it names exist. A renamed session or option breaks this test, not a
reader's first hour."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List, Set

import pytest
import yaml
from support.generate import REPO

DOC = REPO / "docs" / "getting-started.md"
BIN = Path(sys.executable).parent
EXAMPLES = {"orchestrator": REPO / "examples" / "orchestrator-temporal", "backend": REPO / "examples" / "backend-slurm"}


def commands() -> List[List[str]]:
    """Each command of each ```bash block, as words (comments dropped, && split)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words:
                    out.append(words)
    return out


def nox_sessions(noxfile: Path) -> Set[str]:
    names = set()
    for node in ast.walk(ast.parse(noxfile.read_text())):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                call = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(call) == "nox.session":
                    explicit = [k.value.value for k in getattr(deco, "keywords", []) if k.arg == "name"]
                    names.add(explicit[0] if explicit else node.name)
    return names


def help_text(*cmd: str) -> str:
    result = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"`{' '.join(cmd)} --help` failed: {result.stderr[-1000:]}"
    return result.stdout


def options(words: List[str]) -> List[str]:
    return [w.split("=", 1)[0] for w in words if w.startswith("-") and w != "--"]


def check_copier(words: List[str]) -> None:
    text = help_text(str(BIN / "copier"), words[1])
    for opt in options(words[2:]):
        assert re.search(rf"(^|[\s,]){re.escape(opt)}\b", text), f"copier {words[1]} has no option {opt}"
    for i, word in enumerate(words):
        if word == "--data-file":
            assert (REPO / words[i + 1]).is_file(), f"{words[i + 1]} does not exist"
        if word == "--data":
            key = words[i + 1].split("=", 1)[0]
            assert key in yaml.safe_load((REPO / "copier.yml").read_text()), f"copier.yml has no question {key}"


def check_mfx(words: List[str]) -> None:
    text = help_text(str(BIN / "mfx"), words[1])
    for opt in options(words[2:]):
        assert opt in text, f"mfx {words[1]} has no option {opt}"


def check_nox(words: List[str]) -> None:
    args = words[1:words.index("--")] if "--" in words else words[1:]
    wanted = [args[i + 1] for i, w in enumerate(args) if w == "-s"]
    assert wanted, f"{words}: name the session with -s"
    # a session may belong to one kind (`nox -s ux`: orchestrators only), never to none
    having = {kind: nox_sessions(example / "noxfile.py") for kind, example in EXAMPLES.items()}
    for session in wanted:
        assert any(session in sessions for sessions in having.values()), f"no generated noxfile has a session {session!r}"
    if "devstack" in wanted and "--" in words:
        action = words[words.index("--") + 1]
        for example in EXAMPLES.values():
            assert action in (example / "devstack" / "run.py").read_text(), f"devstack/run.py has no `{action}`"


def check_python(words: List[str]) -> None:
    if words[1:3] == ["-m", "venv"]:
        assert len(words) == 4, words
        return
    if len(words) == 2 and words[1].endswith(".py"):
        assert (REPO / words[1]).is_file(), f"{words[1]} does not exist"
        return
    assert words[1:4] == ["-m", "pip", "install"], f"unchecked python command {words}"
    for requirement in words[4:]:
        if requirement.startswith("copier=="):
            import copier

            assert requirement == f"copier=={copier.__version__}", "the doc pins another copier than the tested one"
        else:
            path, _, extra = requirement.partition("[")
            assert (REPO / path / "pyproject.toml").is_file(), requirement
            extras = re.findall(r'^(\w+) = \[', (REPO / path / "pyproject.toml").read_text(), flags=re.M)
            assert extra.rstrip("]") in extras, f"{path} has no extra {extra}"


def check_uv(words: List[str]) -> None:
    import shutil

    uv = shutil.which("uv") or str(BIN / "uv")
    help_text(uv, words[1])


def check_activate(words: List[str]) -> None:
    assert words == [".", ".venv/bin/activate"], f"unchecked source command {words}"


CHECKERS = {"copier": check_copier, "mfx": check_mfx, "nox": check_nox, "python3": check_python, "python": check_python,
            "uv": check_uv, ".": check_activate}


def test_the_doc_walks_through_the_five_stages():
    text = DOC.read_text()
    headings = re.findall(r"^## \d\. (.+)$", text, flags=re.M)
    assert [h.split()[0].lower() for h in headings] == ["copy", "fill", "lint", "compliance", "publish"], headings


@pytest.mark.parametrize("words", commands(), ids=lambda w: " ".join(w)[:60])
def test_quoted_command_is_real(words):
    assert words[0] in CHECKERS, f"{words[0]}: no checker for this program; add one to CHECKERS"
    CHECKERS[words[0]](words)


def test_relative_links_resolve():
    for target in re.findall(r"\]\(([^)#:]+)\)", DOC.read_text()):
        assert (DOC.parent / target).exists(), f"broken link {target}"
