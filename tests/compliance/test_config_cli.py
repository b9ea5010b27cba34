"""`mfx compliance` configuration: one-line errors (exit 2) before pytest starts, the report lines it
prints, the guide shipped in the package, and where deploy_args / deployer_options go."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from mfx.compliance import cli
from mfx.compliance.config import ComplianceConfig, ConfigError, load

ROOT = Path(__file__).resolve().parents[2]
BASE = '[tool.mfx.compliance]\nkind = "orchestrator"\nplugin = "x"\ncapabilities = "cfgtest_caps:CAPABILITIES"\n'


def _project(tmp_path: Path, table: str, caps: str = "CAPABILITIES = frozenset()\n") -> Path:
    project = tmp_path / "ext"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(table)
    (project / "cfgtest_caps.py").write_text(caps)
    sys.modules.pop("cfgtest_caps", None)
    return project


def _mfx(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mfx.cli", "compliance", *args], capture_output=True, text=True, timeout=120, cwd=cwd, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    "table, caps, message",
    [
        (BASE + "deploy_arg = {}\n", None, "unknown keys ['deploy_arg']"),
        (BASE + 'deploy_args = "x"\n', None, "deploy_args must be a table"),
        (BASE + "deploy_args = { tags = ['a'] }\n", None, "must not set tags"),
        (BASE + "deployer_options = [1]\n", None, "deployer_options must be a table"),
        (BASE + "decospec = 3\n", None, "decospec must be a non-empty string"),
        (BASE + "engine_address_env = ''\n", None, "engine_address_env must be a non-empty string"),
        (BASE + "devstack = 5\n", None, "devstack must be a list of strings"),
        (BASE.replace('"x"', "7"), None, "plugin must be a non-empty string"),
        (BASE, "CAPABILITIES = frozenset({'swich'})\n", "unknown optional capabilities ['swich']"),
        (BASE, "CAPABILITIES = frozenset({'create'})\n", "create required, always tested"),
        (BASE, "CAPABILITIES = 'switch'\n", "must be a collection of capability id strings"),
        (BASE, "CAPABILITIES = 3\n", "must be a collection of capability id strings"),
        (BASE, "raise RuntimeError('boom\\nsecond line')\n", "failed: RuntimeError: boom second line"),
        ("[tool.mfx.compliance\n", None, "cannot read"),
    ],
)
def test_config_errors_exit_2_with_one_line(tmp_path: Path, table: str, caps, message: str) -> None:
    project = _project(tmp_path, table, caps or "CAPABILITIES = frozenset()\n")
    result = _mfx("--project", str(project), cwd=tmp_path)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "report" not in result.stdout  # pytest never ran, no report claimed
    assert not (project / "reports").exists()


def test_cli_usage_error_is_one_line(tmp_path: Path) -> None:
    result = _mfx("--project", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "expected one argument" in result.stderr
    assert _mfx("--help", cwd=tmp_path).returncode == 0


def test_missing_project_is_one_line(tmp_path: Path) -> None:
    result = _mfx("--project", str(tmp_path / "missing"), cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "does not exist" in result.stderr


def test_no_message_points_at_a_repository_path() -> None:
    """An installed mfx has no docs/ directory: messages name the command that shows the guide."""
    src = ROOT / "checker" / "src" / "mfx" / "compliance"
    offenders = [
        f"{p.relative_to(src)}:{n}" for p in src.rglob("*.py") for n, line in enumerate(p.read_text().splitlines(), 1)
        if "see docs/compliance.md" in line or "(see docs/" in line
    ]
    assert offenders == []


def test_docs_are_shipped_and_printed() -> None:
    assert cli.GUIDE.read_text() == (ROOT / "docs" / "compliance.md").read_text(), "run python -m mfx.compliance.docs docs/compliance.md"
    result = subprocess.run([sys.executable, "-m", "mfx.cli", "compliance", "--docs"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "# The compliance suite" in result.stdout and "mfx compliance init" in result.stdout


def test_guide_is_package_data() -> None:
    """setuptools ships it: the package-data globs of the checker cover the guide and the devstack copies."""
    import tomllib

    data = tomllib.loads((ROOT / "checker" / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    assert "*.md" in data and "*.txt" in data
    init_data = ROOT / "checker" / "src" / "mfx" / "compliance" / "init_data"
    assert all(p.suffix == ".txt" for p in init_data.iterdir()), "init_data is shipped through the *.txt glob"


def test_report_lines_name_only_what_was_written(tmp_path: Path) -> None:
    old = tmp_path / "compliance.md"
    old.write_text("stale")
    since = time.time() + 5  # the stale file predates the session
    assert cli.written_reports(tmp_path, since) == []
    (tmp_path / "compliance.xml").write_text("<x/>")
    assert [p.name for p in cli.written_reports(tmp_path, time.time() - 2)] == ["compliance.md", "compliance.xml"]


def test_usage_error_inside_pytest_claims_no_report(tmp_path: Path) -> None:
    """A pytest usage error (here an unknown option) ends the session before any report: the CLI says so."""
    project = _project(tmp_path, BASE)
    result = _mfx("--project", str(project), "--no-such-pytest-option", cwd=tmp_path)
    assert result.returncode == 4, result
    assert "no report written" in result.stdout and "report written to" not in result.stdout


def test_deploy_args_go_to_create_and_options_to_the_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through Metaflow's real Deployer and CLI (argo-workflows ships with Metaflow; it fails at
    `create` without a cluster, after its command line is built): deployer_options come before
    `create`, deploy_args after it, next to the suite's tags."""
    from mfx.compliance.harness import Harness
    from mfx.compliance.plugin import Engine

    cfg = ComplianceConfig(
        project=tmp_path, kind="orchestrator", plugin="argo-workflows", capabilities="m:C",
        deploy_args={"max_workers": 3}, deployer_options={"name": "mfx-init-test"},
    )
    monkeypatch.setenv("METAFLOW_USER", "mfx-test")  # CI runs as root: Metaflow knows no user otherwise
    monkeypatch.chdir(tmp_path)
    h = Harness(Engine(cfg, frozenset(), {}, tmp_path, 60.0, []))
    assert h.create_args(["t1"]) == {"max_workers": 3, "tags": ["t1"]}
    with pytest.raises(AssertionError) as info:
        h.create("linear_flow", tags=["t1"])
    message = str(info.value)
    command = next(line for line in message.splitlines() if line.strip().startswith("command:"))
    group, _, create = command.partition(" create ")
    assert group.endswith("argo-workflows --name mfx-init-test"), command
    assert "--max-workers 3" in create and "--tag t1" in create, command


def test_toml_table_accepts_both_settings(tmp_path: Path) -> None:
    project = _project(tmp_path, BASE + 'deploy_args = { cluster = "dev" }\ndeployer_options = { namespace = "n" }\n')
    cfg = load(project)
    assert cfg.deploy_args == {"cluster": "dev"} and cfg.deployer_options == {"namespace": "n"}
    with pytest.raises(ConfigError):
        load(_project(tmp_path / "b", BASE + "deployer_option = {}\n"))


def _flat_extension(root: Path) -> Path:
    """An extension repository with its sources at the root (flat layout, as metaflow-dagster ships)."""
    project = _project(root, BASE)
    plugins = project / "metaflow_extensions" / "acme" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "mfextinit_acme.py").write_text("DEPLOYER_IMPL_PROVIDERS_DESC = []\n")
    return project


def _install(site: Path, project: Path) -> None:
    """The same extension installed as a distribution into ``site`` (a dist-info whose RECORD lists it)."""
    rel = "metaflow_extensions/acme/plugins/mfextinit_acme.py"
    (site / rel).parent.mkdir(parents=True)
    (site / rel).write_text((project / rel).read_text())
    info = site / "metaflow_acme-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: metaflow-acme\nVersion: 0.1\n")
    (info / "RECORD").write_text(f"{rel},,\nmetaflow_acme-0.1.dist-info/METADATA,,\n")


def test_installed_flat_extension_is_not_loaded_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flat-layout extension that is also installed (from PyPI): the project root must not stay on
    sys.path, or Metaflow sees two copies of its metaflow_extensions modules and refuses to load
    ("Conflicts in 'metaflow_extensions' files"). Its capabilities module is still imported."""
    from mfx.compliance.config import installed_elsewhere, validate

    project = _flat_extension(tmp_path / "a")
    site = tmp_path / "site"
    _install(site, project)
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    assert installed_elsewhere(project)
    cfg, declared = validate(project)
    assert declared == frozenset() and str(cfg.project) not in sys.path


def test_uninstalled_or_src_layout_extension_stays_importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mfx.compliance.config import installed_elsewhere, validate

    project = _flat_extension(tmp_path / "a")
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert not installed_elsewhere(project)  # not installed: imported from the checkout, which must stay
    cfg, _ = validate(project)
    assert str(cfg.project) in sys.path
    src = _project(tmp_path / "b", BASE)  # src layout: nothing at the root to clash with
    monkeypatch.setattr(sys, "path", [str(tmp_path / "site-none"), *sys.path])
    assert not installed_elsewhere(src)
