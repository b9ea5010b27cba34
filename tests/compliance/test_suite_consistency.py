"""Static consistency of the suite: capability ids, markers, flows, failure messages, CLI."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from mfx.compliance import capabilities as caps
from mfx.compliance import cli
from mfx.compliance.expect import TITLES, pitfall

SUITE = Path(cli.__file__).resolve().parent
ORCH_TESTS = SUITE / "tests" / "orchestrator"
ORCH_FLOWS = SUITE / "flows" / "orchestrator"
KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def _markers(test_dir: Path) -> dict:
    """capability id -> test function names, read from the test modules' decorators."""
    found: dict = {}
    for path in sorted(test_dir.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for deco in node.decorator_list:
                    if isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "capability":
                        found.setdefault(deco.args[0].value, []).append(node.name)
    return found


def test_capability_ids_are_kebab_case_and_unique_per_kind() -> None:
    for kind in (caps.ORCHESTRATOR, caps.BACKEND):
        ids = [c.id for c in caps.for_kind(kind)]
        assert len(ids) == len(set(ids)), f"duplicate {kind} ids"
        assert all(KEBAB.match(i) for i in ids), [i for i in ids if not KEBAB.match(i)]


def test_orchestrator_capabilities_cite_known_pitfalls() -> None:
    for cap in caps.for_kind(caps.ORCHESTRATOR):
        assert cap.level in (caps.REQUIRED, caps.OPTIONAL)
        assert set(cap.pitfalls) <= set(TITLES), (cap.id, cap.pitfalls)


@pytest.mark.parametrize("kind", [caps.ORCHESTRATOR, caps.BACKEND])
def test_every_capability_has_a_test_and_every_marker_is_known(kind: str) -> None:
    """The guard: a capability in the registry without a test would be reported but never checked."""
    markers = _markers(SUITE / "tests" / kind)
    ids = {c.id for c in caps.for_kind(kind)}
    assert set(markers) <= ids, f"markers of unknown {kind} capabilities: {sorted(set(markers) - ids)}"
    assert ids - set(markers) == set(), f"{kind} capabilities without a test: {sorted(ids - set(markers))}"


def test_required_lookups_and_unknown_ids() -> None:
    assert caps.get("foreach", caps.ORCHESTRATOR).required
    assert caps.get("trigger-async", caps.BACKEND) is None
    with pytest.raises(KeyError, match="unknown capability 'forech'"):
        caps.get("forech", caps.ORCHESTRATOR)
    assert caps.unknown_ids({"switch", "swich", "foreach"}, caps.ORCHESTRATOR) == ("foreach", "swich")


def test_pitfall_message_names_pitfall_and_fix() -> None:
    msg = pitfall("O15", "first attempt had retry_count=1", fix="subtract 1 from the native attempt")
    assert msg.startswith("[O15 retry count hard-coded, 1-based, or task id changing per attempt]")
    assert "Fix: subtract 1" in msg
    assert pitfall("O2,O21", "x").startswith("[O2 trigger attribute JSON lacks pathspec or uses another run id; O21 ")


def _flow_files() -> list:
    return sorted(p for p in ORCH_FLOWS.glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", _flow_files(), ids=lambda p: p.stem)
def test_flow_has_main_guard_and_one_flowspec(path: Path) -> None:
    tree = ast.parse(path.read_text())
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and any(getattr(b, "id", "") == "FlowSpec" for b in n.bases)]
    assert len(classes) == 1, "one FlowSpec per file"
    guards = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert guards and f"{classes[0].name}()" in ast.unparse(guards[0]), "needs `if __name__ == '__main__': Flow()`"
    assert ast.get_docstring(tree), "the flow says what it checks"


def test_flows_are_valid_metaflow_graphs(tmp_path: Path) -> None:
    """`python flow.py show` (real Metaflow) parses every flow except conda's (needs conda)."""
    env = {"METAFLOW_DATASTORE_SYSROOT_LOCAL": str(tmp_path), "METAFLOW_USER": "mfx-test", "PATH": "/usr/bin:/bin"}

    def show(path: Path) -> tuple:
        proc = subprocess.run([sys.executable, str(path), "--no-pylint", "show"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
        return path.name, proc.returncode, proc.stderr[-800:]

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(show, [p for p in _flow_files() if p.stem != "conda_flow"]))
    assert [r for r in results if r[1] != 0] == []


def test_cli_builds_pytest_command(tmp_path: Path) -> None:
    args = cli.pytest_args(tmp_path, tmp_path / "r", "orchestrator", ["-k", "retry"])
    assert args[0] == str(ORCH_TESTS)
    assert "--mfx-compliance" in args and f"--mfx-project={tmp_path}" in args
    assert f"--junitxml={tmp_path / 'r' / 'compliance.xml'}" in args
    assert f"--mfx-report-md={tmp_path / 'r' / 'compliance.md'}" in args
    assert any(a.startswith("--timeout=") for a in args)
    assert args[-2:] == ["-k", "retry"]


def test_cli_reports_missing_config_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml not found" in err and "Traceback" not in err


def test_docs_capability_tables_are_current() -> None:
    from mfx.compliance import docs

    page = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"
    assert docs.main([str(page), "--check"]) == 0, "run: python -m mfx.compliance.docs docs/compliance.md"
