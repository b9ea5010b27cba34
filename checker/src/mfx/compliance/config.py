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
# Every key the table may hold: anything else is a typo (e.g. `deploy_arg`) that would silently change nothing.
KEYS = (
    "kind", "plugin", "capabilities", "devstack", "deploy_args", "deployer_options", "decospec",
    "engine_address_env", "no_worker_env", "launch_failure_decospec", "resource_attributes",
)
DOCS_HINT = "`mfx compliance --docs` shows the table"


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
    # Keyword arguments of create(), as Metaflow's test/ux passes its deploy_args (tags are the suite's).
    deploy_args: Dict[str, Any] = field(default_factory=dict)
    # Options of the CLI group: Deployer(flow).<plugin>(**deployer_options), i.e. `python flow.py <plugin> --opt ... create`.
    deployer_options: Dict[str, Any] = field(default_factory=dict)
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
        if not Path(project).is_dir():
            raise ConfigError(f"project directory {Path(project)} does not exist: pass --project (or --mfx-project) pointing at the extension repository")
        raise ConfigError(f"{pyproject} not found: pass --project (or --mfx-project) pointing at the extension repository, or run `mfx compliance init` there")
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {' '.join(str(exc).split())}") from None
    table = data.get("tool", {}).get("mfx", {}).get("compliance")
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject} has no [tool.mfx.compliance] table: run `mfx compliance init` ({DOCS_HINT})")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"[tool.mfx.compliance] in {pyproject} has unknown keys {unknown}; known: {', '.join(KEYS)}")

    def need_str(key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"[tool.mfx.compliance] {key} must be a non-empty string in {pyproject}")
        return value

    kind = need_str("kind")
    if kind not in KINDS:
        raise ConfigError(f"[tool.mfx.compliance] kind must be one of {', '.join(KINDS)}, got {kind!r}")
    devstack = table.get("devstack", [])
    if isinstance(devstack, str):
        devstack = devstack.split()
    if not isinstance(devstack, list) or not all(isinstance(x, str) for x in devstack):
        raise ConfigError("[tool.mfx.compliance] devstack must be a list of strings, e.g. [\"python\", \"devstack/run.py\"]")
    deploy_args = table.get("deploy_args", {})
    if not isinstance(deploy_args, dict):
        raise ConfigError("[tool.mfx.compliance] deploy_args must be a table of create() keyword arguments, e.g. { cluster = \"dev\" }")
    if "tags" in deploy_args:
        raise ConfigError("[tool.mfx.compliance] deploy_args must not set tags: the suite passes its own tags to create()")
    deployer_options = table.get("deployer_options", {})
    if not isinstance(deployer_options, dict):
        raise ConfigError("[tool.mfx.compliance] deployer_options must be a table of the CLI group's options, e.g. { namespace = \"dev\" }")
    for key in ("decospec", "engine_address_env"):
        if key in table and (not isinstance(table[key], str) or not table[key]):
            raise ConfigError(f"[tool.mfx.compliance] {key} must be a non-empty string, got {table[key]!r}")
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
        deployer_options=dict(deployer_options),
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
            f"cannot import {module_name} (from [tool.mfx.compliance] capabilities): {' '.join(str(exc).split())}. "
            "Is the extension installed in this environment (pip install -e .)?"
        ) from None
    except Exception as exc:  # the module itself is broken: still one line
        raise ConfigError(f"importing {module_name} (from [tool.mfx.compliance] capabilities) failed: {type(exc).__name__}: {' '.join(str(exc).split())}") from None
    value = getattr(module, attr, None)
    if value is None:
        raise ConfigError(f"{module_name} has no attribute {attr} (from [tool.mfx.compliance] capabilities)")
    try:
        ok = not isinstance(value, (str, bytes, dict)) and all(isinstance(v, str) for v in value)
    except TypeError:  # not iterable
        ok = False
    if not ok:
        raise ConfigError(f"{spec} must be a collection of capability id strings, got {value!r}")
    return frozenset(value)


def validate(project: Path) -> "tuple[ComplianceConfig, FrozenSet[str]]":
    """Everything a session needs before it starts: the table, the declared capabilities, known ids.

    ``mfx compliance`` calls it before pytest starts, so any configuration error is one line, exit 2.
    """
    from . import capabilities as caps

    cfg = load(project)
    inserted = str(cfg.project) not in sys.path
    if inserted:  # the extension is imported from the project under test, installed or not
        sys.path.insert(0, str(cfg.project))
    declared = load_declared(cfg.capabilities)
    if inserted and installed_elsewhere(cfg.project):
        # The extension is installed as a distribution (e.g. from PyPI) and its sources sit at the
        # project root (flat layout): with both on sys.path Metaflow finds two copies of the same
        # metaflow_extensions modules and refuses to load any ("Conflicts in 'metaflow_extensions' files").
        sys.path.remove(str(cfg.project))
    unknown = caps.unknown_ids(declared, cfg.kind)
    if unknown:
        known = sorted(c.id for c in caps.for_kind(cfg.kind) if not c.required)
        required = sorted(set(unknown) & {c.id for c in caps.for_kind(cfg.kind)})
        why = f" ({', '.join(required)} required, always tested: do not declare)" if required else ""
        raise ConfigError(
            f"{cfg.capabilities} declares unknown optional capabilities {list(unknown)}{why}; "
            f"known optional {cfg.kind} capabilities: {', '.join(known)}"
        )
    return cfg, declared


def installed_elsewhere(project: Path) -> bool:
    """Whether an installed distribution (not this checkout) ships ``metaflow_extensions`` files that
    the project also has at its root: then the project root must not be on ``sys.path`` as well."""
    from importlib import metadata

    project = Path(project).resolve()
    if not (project / "metaflow_extensions").is_dir():
        return False
    for dist in metadata.distributions():
        for file in dist.files or ():
            rel = str(file)
            if not rel.startswith("metaflow_extensions/") or not rel.endswith(".py"):
                continue
            if (project / rel).is_file() and Path(str(dist.locate_file(file))).resolve() != (project / rel):
                return True
    return False
