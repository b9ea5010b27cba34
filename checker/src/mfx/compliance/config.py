"""Read ``[tool.mfx.compliance]`` from the extension repository's ``pyproject.toml``.

The suite is configured in the repository under test (not by command-line flags), so the same
``nox -s compliance`` works locally and in CI. Errors name the key and the file.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

KINDS = ("orchestrator", "backend")


class ConfigError(Exception):
    """The project's compliance configuration is missing or wrong (message says what to fix)."""


@dataclass
class ComplianceConfig:
    """The validated ``[tool.mfx.compliance]`` table."""

    project: Path
    kind: str
    plugin: str
    capabilities: str
    devstack: List[str] = field(default_factory=list)
    deploy_args: Dict[str, Any] = field(default_factory=dict)
    decospec: Optional[str] = None
    engine_address_env: Optional[str] = None
    # Orchestrator, capability "no-worker": env overrides under which no worker executes runs
    # (e.g. an unpolled task queue); "{unique}" in a value becomes a fresh token per test.
    no_worker_env: Dict[str, str] = field(default_factory=dict)
    # Backend, capability "launch-failure": a --with spec under which submitting the job fails
    # (e.g. an unknown queue); without it the test is "not run" (the suite never guesses attributes).
    launch_failure_decospec: Optional[str] = None
    # Backend, capability "resources": @resources name -> the decorator's attribute holding it, for
    # attributes not named like Metaflow's own (cpu, memory, gpu), e.g. { cpu = "cpus" }.
    resource_attributes: Dict[str, str] = field(default_factory=dict)

    @property
    def deployer_method(self) -> str:
        """``Deployer(flow).<method>()``: the TYPE with ``-`` turned into ``_``."""
        return self.plugin.replace("-", "_")


def load(project: Path) -> ComplianceConfig:
    """Parse and validate the table; raise :class:`ConfigError` with the fix on any problem."""
    pyproject = Path(project).resolve() / "pyproject.toml"
    if not pyproject.is_file():
        raise ConfigError(f"{pyproject} not found: pass --mfx-project (or --project) pointing at the extension repository")
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}") from None
    table = data.get("tool", {}).get("mfx", {}).get("compliance")
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject} has no [tool.mfx.compliance] table (see docs/compliance.md)")

    def need_str(key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"[tool.mfx.compliance] {key} must be a non-empty string in {pyproject}")
        return value

    kind = need_str("kind")
    if kind not in KINDS:
        raise ConfigError(f"[tool.mfx.compliance] kind must be one of {KINDS}, got {kind!r}")
    devstack = table.get("devstack", [])
    if isinstance(devstack, str):
        devstack = devstack.split()
    if not isinstance(devstack, list) or not all(isinstance(x, str) for x in devstack):
        raise ConfigError("[tool.mfx.compliance] devstack must be a list of strings, e.g. [\"python\", \"devstack/run.py\"]")
    deploy_args = table.get("deploy_args", {})
    if not isinstance(deploy_args, dict):
        raise ConfigError("[tool.mfx.compliance] deploy_args must be a table")
    capabilities = need_str("capabilities")
    if ":" not in capabilities:
        raise ConfigError(f"[tool.mfx.compliance] capabilities must look like 'package.module:CAPABILITIES', got {capabilities!r}")
    address_env = table.get("engine_address_env")
    no_worker_env = table.get("no_worker_env", {})
    if not isinstance(no_worker_env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in no_worker_env.items()):
        raise ConfigError(
            "[tool.mfx.compliance] no_worker_env must be a table of strings, e.g. "
            "{ METAFLOW_MY_SCHEDULER_TASK_QUEUE = \"mfx-nobody-{unique}\" }"
        )
    launch_failure = table.get("launch_failure_decospec")
    if launch_failure is not None and (not isinstance(launch_failure, str) or not launch_failure.strip()):
        raise ConfigError("[tool.mfx.compliance] launch_failure_decospec must be a non-empty string, e.g. \"my_backend:queue=no-such-queue\"")
    resource_attributes = table.get("resource_attributes", {})
    if not isinstance(resource_attributes, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in resource_attributes.items()):
        raise ConfigError("[tool.mfx.compliance] resource_attributes must be a table of strings, e.g. { cpu = \"cpus\", memory = \"mem_mb\" }")
    return ComplianceConfig(
        project=pyproject.parent,
        kind=kind,
        plugin=need_str("plugin"),
        capabilities=capabilities,
        devstack=list(devstack),
        deploy_args=dict(deploy_args),
        decospec=table.get("decospec"),
        engine_address_env=address_env if isinstance(address_env, str) and address_env else None,
        no_worker_env=dict(no_worker_env),
        launch_failure_decospec=launch_failure.strip() if launch_failure else None,
        resource_attributes=dict(resource_attributes),
    )


def load_declared(spec: str) -> FrozenSet[str]:
    """Import ``module:ATTR`` and return the declared optional capability ids."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import {module_name} (from [tool.mfx.compliance] capabilities): {exc}. "
            "Is the extension installed in this environment (pip install -e .)?"
        ) from None
    value = getattr(module, attr, None)
    if value is None:
        raise ConfigError(f"{module_name} has no attribute {attr} (from [tool.mfx.compliance] capabilities)")
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{spec} must be a collection of capability id strings, got {value!r}")
    return frozenset(value)
