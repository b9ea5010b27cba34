"""Every `mfx ...` command line written down for people parses with the real mfx argument parser.

Looked for in the template (what generated repositories say), the rendered examples (generated
repositories' docs, pyproject comments and noxfiles), this repository's docs and mfx's own
messages: inline code spans (`mfx ...`), shell lines of fenced code blocks, and Python calls whose
argument list starts with "mfx" (session.run("mfx", ...), subprocess lists). A pointer to an option
that does not exist (`mfx rule --list`) fails here, with the file and line. Synopses are read as
invocations: [optional parts] count as given, `...` is dropped and placeholders ({x}, <x>) become
a plain word. CHANGELOG.md records history (including the wrong pointers it fixed) and is not read.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Iterator, List, NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".md", ".jinja", ".py", ".toml", ".yml", ".yaml", ".txt", ".sh", ".cfg", ".json"}
ROOTS = ["README.md", "docs", "template", "examples", "checker/README.md", "checker/src", "copier.yml", "noxfile.py", "tools"]
SUBCOMMANDS = ("check", "rule", "new", "compliance")

CODE_SPAN = re.compile(r"(?<!`)`(mfx(?:\s[^`\n]*)?)`(?!`)")
SHELL_LINE = re.compile(r"^\s*(?:\$\s+)?(mfx\s.*)$")
FENCE = re.compile(r"^\s*(```|~~~)(\S*)")


class Invocation(NamedTuple):
    where: str  # path:line
    text: str  # as written

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def _files() -> Iterator[Path]:
    for root in ROOTS:
        path = REPO / root
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in candidates:
            if "__pycache__" in file.parts or ".git" in file.parts:
                continue
            if file.suffix in TEXT_SUFFIXES or file.name.endswith(".jinja"):
                yield file


def _from_text(rel: str, text: str) -> Iterator[Invocation]:
    in_fence, fence_lang = False, ""
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            in_fence, fence_lang = (not in_fence, fence.group(2)) if not in_fence else (False, "")
            continue
        for match in CODE_SPAN.finditer(line):
            yield Invocation(f"{rel}:{number}", match.group(1))
        if in_fence and fence_lang not in ("python", "py", "toml", "json", "yaml"):
            shell = SHELL_LINE.match(line)
            if shell:
                yield Invocation(f"{rel}:{number}", shell.group(1))


def _from_python(rel: str, text: str) -> Iterator[Invocation]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return  # a .jinja source: its rendered twin in examples/ is read instead
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            items = list(node.args)
        elif isinstance(node, (ast.List, ast.Tuple)):
            items = list(node.elts)
        else:
            continue
        if not items or not (isinstance(items[0], ast.Constant) and items[0].value == "mfx"):
            continue
        if len(items) < 2 or not (isinstance(items[1], ast.Constant) and items[1].value in SUBCOMMANDS):
            continue
        words = []
        for item in items:
            if isinstance(item, ast.Starred):
                break  # the rest comes from elsewhere (posargs)
            words.append(str(item.value) if isinstance(item, ast.Constant) else "X")
        yield Invocation(f"{rel}:{node.lineno}", shlex.join(words))


def invocations() -> List[Invocation]:
    found = []
    for file in _files():
        rel = file.relative_to(REPO).as_posix()
        text = file.read_text(encoding="utf-8", errors="replace")
        found.extend(_from_text(rel, text))
        if file.suffix == ".py":
            found.extend(_from_python(rel, text))
    return found


def argv_of(text: str) -> List[str]:
    """The argument list a written invocation stands for (without the leading `mfx`)."""
    text = text.split(" #", 1)[0]  # a shell comment
    text = re.sub(r"\{[^{}]*\}", "X", text)  # f-string / template placeholders
    text = re.sub(r"<[^<>]*>", "X", text)
    text = text.replace("[", " ").replace("]", " ").replace("...", " ").replace("|", " ")
    words = shlex.split(text)
    assert words[0] == "mfx"
    return words[1:]


def _pytest_mfx_options() -> set:
    """The --mfx-* options the compliance plugin registers (mfx compliance passes the rest to pytest)."""
    from mfx.compliance import plugin

    names: set = set()

    class Group:
        def addoption(self, *opts, **kwargs):
            names.update(opts)

    class Parser:
        def getgroup(self, *args, **kwargs):
            return Group()

    plugin.pytest_addoption(Parser())
    return names


def problem_with(argv: List[str]) -> str | None:
    """None when the real parser accepts ``mfx <argv>``; else its error message."""
    from mfx.cli import build_parser
    from mfx.errors import UsageError

    if len(argv) == 1 and argv[0] in SUBCOMMANDS:
        return None  # the command's name in prose (`mfx new` takes ...), not a command line
    if argv[:2] == ["compliance", "init"]:
        from mfx.compliance.init import build_parser as init_parser

        try:
            init_parser().parse_args(argv[2:])
        except SystemExit as exc:
            return None if exc.code == 0 else "mfx compliance init rejected its options"
        return None
    if argv[:1] == ["compliance"]:
        from mfx.compliance.cli import build_parser as compliance_parser

        try:
            _, rest = compliance_parser().parse_known_args(argv[1:])
        except SystemExit:
            return "mfx compliance rejected its own options"
        unknown = [a.split("=", 1)[0] for a in rest if a.startswith("--mfx-")]
        bad = sorted(set(unknown) - _pytest_mfx_options())
        return f"unknown compliance option(s) {bad}" if bad else None
    if argv == ["rule", "new"]:
        return None  # the command's name in prose
    if argv[:2] == ["rule", "new"]:  # dispatched to its own parser, as mfx.cli.main does
        from mfx.commands.rulenew import build_parser as rule_new_parser

        try:
            _, unknown = rule_new_parser().parse_known_args(argv[2:])
        except UsageError as exc:
            return str(exc)
        except SystemExit:
            return None
        return f"unrecognized arguments: {unknown}" if unknown else None
    try:
        _, unknown = build_parser().parse_known_args(argv)
    except UsageError as exc:
        return str(exc)
    except SystemExit:  # --help / --version
        return None
    return f"unrecognized arguments: {unknown}" if unknown else None


FOUND = invocations()


def test_invocations_are_found_in_every_kind_of_place() -> None:
    """The scan itself works: it sees code spans, shell blocks and Python calls, template and docs."""
    assert any(inv.where.startswith("README.md:") for inv in FOUND)
    assert any(inv.where.startswith("template/") for inv in FOUND)
    assert any(inv.where.startswith("examples/") and "noxfile.py" in inv.where for inv in FOUND), "Python calls not read"
    assert any(inv.where.startswith("docs/") for inv in FOUND)
    assert len(FOUND) > 40


@pytest.mark.parametrize("bad", ["mfx rule new MFX327", "mfx rule new MFX327 x --base dir", "mfx rule --list", "mfx check --output json", "mfx nosuch", "mfx compliance --mfx-timeout 5", "mfx compliance init --engine nomad"])
def test_a_wrong_pointer_is_caught(bad: str) -> None:
    assert problem_with(argv_of(bad)) is not None


def test_every_written_mfx_invocation_parses() -> None:
    wrong = [f"{inv}  ->  {problem}" for inv in FOUND if (problem := problem_with(argv_of(inv.text)))]
    assert not wrong, "mfx invocations that the real parser rejects:\n" + "\n".join(wrong)


def test_an_unknown_option_names_the_command_once(capsys: pytest.CaptureFixture) -> None:
    """argparse's own prefix was printed after mfx's (`mfx: error: mfx: unrecognized arguments`)."""
    from mfx.cli import main

    for argv, prog in ((["--list"], "mfx"), (["rule", "--list"], "mfx rule"), (["check", "--bogus", "."], "mfx check"),
                       (["check", "--output-format", "xml"], "mfx check"), (["new"], "mfx new")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"{prog}: error: "), err
        assert err.count("error:") == 1 and not re.search(r"\bmfx( \w+)?: .*\bmfx( \w+)?: ", err), err
        assert f"`{prog} --help`" in err, err
