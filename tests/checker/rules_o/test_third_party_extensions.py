"""The orchestrator rules find the documented bugs of published Metaflow extensions.

The wheels are installed (``uv pip install --no-deps --target``) into a temporary directory once
per session and linted there; their code is never copied into this repository. Without ``uv`` or
network access the tests are skipped with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from mfx.engine.runner import all_rules, lint_sources
from orchestrator_support import orchestrator_rules

PACKAGES = {
    "kestra": "metaflow-kestra==0.3.4",
    "prefect": "metaflow-prefect==0.3.7",
    "temporal": "metaflow-temporal==0.4.9",
    "dagster": "metaflow-dagster==0.3.7",
    "windmill": "metaflow-windmill==0.2.1",
}


@pytest.fixture(scope="session")
def extension_findings(tmp_path_factory):
    """{name: [(code, file name)]} for every package, installed and linted once."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: cannot fetch the published extensions")
    rules = orchestrator_rules()
    mfx101 = [r for r in all_rules() if r.code == "MFX101"]  # slow (scope analysis): Kestra only
    out = {}
    for name, requirement in PACKAGES.items():
        target = tmp_path_factory.mktemp(name)
        try:
            proc = subprocess.run(
                [uv, "pip", "install", "--no-deps", "--quiet", "--target", str(target), requirement],
                check=False,
                capture_output=True,
                text=True,
                timeout=180,
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"installing {requirement} timed out (no network?)")
        if proc.returncode != 0:
            pytest.skip(f"cannot install {requirement}: {proc.stderr.strip()[-300:]}")
        sources = {
            p.relative_to(target).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted((target / "metaflow_extensions").rglob("*.py"))
        }
        assert sources, f"{requirement} installed no metaflow_extensions sources"
        chosen = rules + mfx101 if name == "kestra" else rules
        out[name] = {(d.code, Path(d.path).name) for d in lint_sources(sources, chosen)}
    return out


@pytest.mark.parametrize(
    "package, code, file_name, pitfall",
    [
        ("kestra", "MFX101", "kestra_deployer.py", "O6: self.deployer_kwargs = ..."),
        ("kestra", "MFX103", "kestra_deployer_objects.py", "O8: run_params tuple"),
        ("kestra", "MFX201", "kestra_compiler.py", 'O15: generated \'"--retry-count"\', \'"0"\''),
        ("kestra", "MFX102", "kestra_cli.py", "O7: parameters only through --run-param"),
        ("prefect", "MFX103", "prefect_deployer_objects.py", "O8: run_params tuple"),
        ("prefect", "MFX211", "_codegen.py", "O9: METAFLOW_PARAMETERS in generated code"),
        ("temporal", "MFX103", "temporal_deployer_objects.py", "O8: run_params tuple"),
        ("dagster", "MFX104", "dagster_deployer_objects.py", "O23: get_triggered_run falls to Argo"),
        ("windmill", "MFX203", "windmill_compiler.py", "O16: no --max-user-code-retries"),
    ],
)
def test_documented_bug_found(extension_findings, package, code, file_name, pitfall):
    assert (code, file_name) in extension_findings[package], pitfall


@pytest.mark.parametrize(
    "package, code, file_name, why",
    [
        # The old regex validator failed Dagster on "(not METAFLOW_PARAMETERS)" in a docstring of
        # its generated code (orchestrator-contract E.4, check 27).
        ("dagster", "MFX211", "dagster_compiler.py", "prose in a template docstring"),
        # Kestra builds its init command inside a template of generated Python.
        ("kestra", "MFX213", "kestra_compiler.py", "init inside generated code"),
        ("prefect", "MFX213", "_codegen.py", "init inside generated code"),
    ],
)
def test_no_false_positive(extension_findings, package, code, file_name, why):
    assert (code, file_name) not in extension_findings[package], why
