"""Generate docs/pitfalls.md from the pitfall catalogue and from everything that cites it.

The catalogue (`mfx.pitfalls`) gives each pitfall its id, title and summary. Everything else on
the page is derived from the code that cites the ids, so it cannot drift:

* lint rules: the `pitfalls` each rule declares (`mfx check`);
* compliance: the capabilities whose registry entry names the pitfall, with the tests marked
  with that capability, and the suite's functions whose failure messages cite it (`mfx compliance`);
* plumbing: the template-owned modules whose code cites it (as tools/contract_doc.py reads them),
  and the generated repository's own tests that cite it;
* mutants: the patches under tests/mutations/ that re-introduce it into a preset (or the reason
  none can).

`python tools/pitfalls_doc.py --check` exits 1 when docs/pitfalls.md is stale and 2 when an id
cited anywhere above is not in the catalogue; without --check it rewrites the file.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "checker" / "src"))  # this checkout's mfx, installed or not
sys.path.insert(0, str(ROOT / "tools"))

import contract_doc  # noqa: E402
from mfx import pitfalls as catalogue  # noqa: E402
from mfx.compliance import capabilities as registry  # noqa: E402

OUT = ROOT / "docs" / "pitfalls.md"
SUITE = ROOT / "checker" / "src" / "mfx" / "compliance"
MUTATIONS = ROOT / "tests" / "mutations"
TEMPLATE_TESTS = ROOT / "template" / "tests"
#: Each preset folder's tests/ (template/presets/<kind>-<preset>/tests/): rendered into tests/ too.
PRESET_TESTS = ROOT / "template" / "presets"
#: Functions whose failure messages name a pitfall: `pitfall("O15", ...)`, `fail("O2,O21", ...)`.
MESSAGE_FUNCTIONS = {"pitfall", "fail"}


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def rendered_name(template_path: str) -> str:
    """The path a template file gets in a generated repository, without its Jinja conditions."""
    name = re.sub(r"\{%.*?%\}", "", template_path)
    return name[: -len(".jinja")] if name.endswith(".jinja") else name


def _is_id_list(value: object) -> bool:
    """A string that is nothing but pitfall ids (``"O2,O21"``), as failure messages take them."""
    if not isinstance(value, str) or not value.strip():
        return False
    ids = catalogue.split_ids(value)
    return bool(ids) and all(catalogue.ID_PATTERN.fullmatch(p) for p in ids)


@dataclass
class Citations:
    """pitfall id -> what cites it, plus every (place, id) whose id the catalogue lacks."""

    rules: Dict[str, List[Tuple[str, str]]] = field(default_factory=dict)  # (code, name)
    capabilities: Dict[str, List[Tuple[str, str, List[str]]]] = field(default_factory=dict)  # (kind, id, tests)
    messages: Dict[str, Set[str]] = field(default_factory=dict)  # "file.py::function"
    plumbing: Dict[str, Set[str]] = field(default_factory=dict)  # "kind/module.py"
    template_tests: Dict[str, Set[str]] = field(default_factory=dict)  # generated repo's test file names
    mutants: Dict[str, List[Tuple[str, str, str]]] = field(default_factory=dict)  # (kind, patch name, why)
    no_mutant: Dict[str, str] = field(default_factory=dict)  # id -> why no patch can re-introduce it
    unknown: List[Tuple[str, str]] = field(default_factory=list)  # (place, id)

    def known(self, pid: str, place: str) -> bool:
        if pid in catalogue.PITFALLS:
            return True
        self.unknown.append((place, pid))
        return False

    def add(self, table: dict, pid: str, value: object, place: str) -> None:
        if self.known(pid, place):
            if isinstance(table.setdefault(pid, set() if isinstance(value, str) else []), set):
                table[pid].add(value)
            elif value not in table[pid]:
                table[pid].append(value)


def _rules(out: Citations) -> None:
    from mfx.ruledocs import rules_by_code

    for code, rule in sorted(rules_by_code().items()):
        for pid in rule.pitfalls:
            out.add(out.rules, pid, (code, rule.name), f"rule {code}")


def _marked_tests(kind: str) -> Dict[str, List[str]]:
    """capability id -> names of the tests of ``kind`` marked ``@pytest.mark.capability(id)``."""
    found: Dict[str, List[str]] = {}
    for path in sorted((SUITE / "tests" / kind).glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in node.decorator_list:
                    if (
                        isinstance(deco, ast.Call)
                        and getattr(deco.func, "attr", "") == "capability"
                        and deco.args
                        and isinstance(deco.args[0], ast.Constant)
                    ):
                        found.setdefault(deco.args[0].value, []).append(node.name)
    return found


def _capabilities(out: Citations) -> None:
    for kind in (registry.ORCHESTRATOR, registry.BACKEND):
        tests = _marked_tests(kind)
        for cap in registry.for_kind(kind):
            for pid in cap.pitfalls:
                out.add(out.capabilities, pid, (kind, cap.id, sorted(tests.get(cap.id, []))), f"capability {kind}/{cap.id}")


class _MessageVisitor(ast.NodeVisitor):
    """Pitfall-id strings per function: the first argument of ``pitfall``/``fail`` calls, and
    string constants that are only ids (``pid, fix = "O3,O4", ...`` before ``fail(pid, ...)``)."""

    def __init__(self, out: Citations, label: str) -> None:
        self.out, self.label, self.scope = out, label, []

    def _function(self, node) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _function

    def _cite(self, text: str, node: ast.AST) -> None:
        where = f"{self.label}::{'.'.join(self.scope) or '<module>'}"
        for pid in catalogue.split_ids(text):
            self.out.add(self.out.messages, pid, where, f"{self.label}:{node.lineno}")

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.id if isinstance(node.func, ast.Name) else None  # not pytest.fail(...)
        first = node.args[0] if node.args else None
        if name in MESSAGE_FUNCTIONS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            self._cite(first.value, node)  # every id given, well-formed or not
            for child in [*node.args[1:], *node.keywords]:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if _is_id_list(node.value):
            self._cite(node.value, node)


def _messages(out: Citations) -> None:
    for path in sorted(SUITE.rglob("*.py")):
        if path.name == "capabilities.py":  # the registry: read as capabilities above
            continue
        label = path.relative_to(SUITE).as_posix()
        _MessageVisitor(out, label).visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))


def _plumbing(out: Citations) -> None:
    for kind, directory in contract_doc.KINDS.items():
        for path in sorted(directory.glob("*.py*")):
            name = path.name.replace(".jinja", "")
            for pid in catalogue.cited(path.read_text(encoding="utf-8")):
                out.add(out.plumbing, pid, f"{kind}/{name}", f"template plumbing {kind}/{name}")
    folders = [TEMPLATE_TESTS, *sorted(PRESET_TESTS.glob("*/tests"))]
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            name = rendered_name(path.relative_to(folder).as_posix())
            for pid in catalogue.cited(path.read_text(encoding="utf-8")):
                out.add(out.template_tests, pid, name, f"{folder.relative_to(ROOT).as_posix()}/{name}")


def patch_folders() -> List[Path]:
    """The folders of tests/mutations that hold mutation patches."""
    return [d for d in sorted(MUTATIONS.iterdir()) if d.is_dir() and any(d.glob("*.patch"))]


def _mutants(out: Citations) -> None:
    mutants = _load(MUTATIONS / "mutants.py", "_mfx_mutants")
    for folder in patch_folders():  # orchestrator/, backend/, and any preset's own folder
        for m in mutants.load_mutants(folder):
            out.add(out.mutants, m.pitfall, (folder.name, m.path.name, m.why), f"tests/mutations/{folder.name}/{m.path.name}")
    for path in sorted(MUTATIONS.glob("test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
            if isinstance(target, ast.Name) and target.id == "NOT_DETECTABLE" and node.value is not None:
                for pid, why in ast.literal_eval(node.value).items():
                    if out.known(pid, f"tests/mutations/{path.name} NOT_DETECTABLE"):
                        out.no_mutant[pid] = why


def collect() -> Citations:
    out = Citations()
    _rules(out)
    _capabilities(out)
    _messages(out)
    _plumbing(out)
    _mutants(out)
    return out


# -- rendering -----------------------------------------------------------------------------------


def _join(items: Iterable[str]) -> str:
    return ", ".join(items) or "—"


def _code(text: str) -> str:
    return f"`{text}`"


def _section(p: catalogue.Pitfall, c: Citations) -> List[str]:
    lines = [f'<a id="{p.anchor}"></a>', "", f"### {p.id}. {p.title}", "", p.summary[:1].upper() + p.summary[1:], ""]
    rules = c.rules.get(p.id, [])
    lines.append("- Detected by `mfx check`: " + _join(f"[{code}](rules/{code}.md) {name}" for code, name in rules))
    caps = c.capabilities.get(p.id, [])
    lines.append(
        "- Checked by `mfx compliance`: "
        + _join(f"`{cid}` ({kind}; {_join(map(_code, tests)) if tests else 'no test yet'})" for kind, cid, tests in caps)
    )
    lines.append("- Named by the failure messages of: " + _join(map(_code, sorted(c.messages.get(p.id, ())))))
    lines.append("- Solved by the template's plumbing: " + _join(map(_code, sorted(c.plumbing.get(p.id, ())))))
    lines.append("- Cited by the generated repository's own tests: " + _join(map(_code, sorted(c.template_tests.get(p.id, ())))))
    mutants = c.mutants.get(p.id, [])
    if mutants:
        lines.append("- Re-introduced by the mutants: " + "; ".join(f"`{kind}/{name}` ({why.rstrip('.')})" if why else f"`{kind}/{name}`" for kind, name, why in mutants))
    elif p.id in c.no_mutant:
        lines.append(f"- No mutant: {c.no_mutant[p.id]}")
    else:
        lines.append("- Re-introduced by the mutants: —")
    return lines + [""]


def _index(pitfalls: Tuple[catalogue.Pitfall, ...], c: Citations) -> List[str]:
    lines = ["| id | pitfall | rules | capabilities | mutants |", "|---|---|---|---|---|"]
    for p in pitfalls:
        rules = _join(f"[{code}](rules/{code}.md)" for code, _ in c.rules.get(p.id, []))
        caps = _join(f"`{cid}`" for cid in sorted({cid for _, cid, _ in c.capabilities.get(p.id, [])}))
        mutants = str(len(c.mutants.get(p.id, []))) if c.mutants.get(p.id) else "—"
        lines.append(f"| [{p.id}](#{p.anchor}) | {p.title.replace('|', '/')} | {rules} | {caps} | {mutants} |")
    return lines


def _coverage(kind: str, c: Citations) -> List[str]:
    ids = [p.id for p in catalogue.all_pitfalls(kind)]

    def count(table: dict) -> str:
        have = [i for i in ids if table.get(i)]
        missing = [i for i in ids if not table.get(i)]
        return f"{len(have)} of {len(ids)}" + (f" (not: {', '.join(missing)})" if missing else "")

    return [
        f"- a lint rule: {count(c.rules)}",
        f"- a compliance capability: {count(c.capabilities)}",
        f"- the template's plumbing: {count(c.plumbing)}",
        f"- a mutant: {count(c.mutants)}",
    ]


def render() -> str:
    c = collect()
    if c.unknown:
        raise ValueError("pitfall ids not in the catalogue (mfx/pitfalls.py): " + "; ".join(f"{pid} in {place}" for place, pid in c.unknown))
    lines = [
        "<!-- Generated by tools/pitfalls_doc.py from mfx.pitfalls and the code that cites it; do not edit. -->",
        "# Pitfalls of Metaflow extensions",
        "",
        f"The known mistakes of Metaflow orchestrator extensions (Deployer providers, **O1–O{len(catalogue.all_pitfalls(catalogue.ORCHESTRATOR))}**) and",
        f"compute-backend extensions (step decorators with a trampoline CLI, **B1–B{len(catalogue.all_pitfalls(catalogue.BACKEND))}**). The catalogue",
        "is `checker/src/mfx/pitfalls.py` (`mfx pitfall <id>` prints an entry); everything below an",
        "entry's summary is read from the code that cites the id: the lint rules that detect it",
        "([rules](rules/index.md)), the compliance capabilities and tests that check it",
        "([compliance.md](compliance.md)), the template-owned plumbing that solves it",
        "([contract.md](contract.md)), the tests a generated repository ships, and the mutants that",
        "re-introduce it into a preset to prove the suite catches it (tests/mutations).",
    ]
    for kind, heading in ((catalogue.ORCHESTRATOR, "Orchestrator"), (catalogue.BACKEND, "Backend")):
        pitfalls = catalogue.all_pitfalls(kind)
        lines += ["", f"## {heading} pitfalls ({pitfalls[0].id}–{pitfalls[-1].id})", "", *_index(pitfalls, c), ""]
        lines += ["Covered by", "", *_coverage(kind, c), ""]
        for p in pitfalls:
            lines += _section(p, c)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: List[str]) -> int:
    try:
        text = render()
    except (OSError, SyntaxError, ValueError, AssertionError) as exc:
        sys.stderr.write(f"pitfalls_doc: {exc}\n")
        return 2
    from generated import write_or_check

    return write_or_check(OUT, text, argv, ROOT, "python tools/pitfalls_doc.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
