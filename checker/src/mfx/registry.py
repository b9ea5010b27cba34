"""Which rule codes exist, without importing the rules (and so without importing libcst).

Rule modules are named after their code (``mfx101_deployer_kwargs_assigned.py``), so the code of
every rule is known from file names alone. That lets a warm run (every file answered from the
cache) resolve ``--select``/``--ignore`` and build its cache key in a few milliseconds; libcst
is imported only when a file actually has to be linted.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

SYNTAX_ERROR_CODE = "MFX000"
SYNTAX_ERROR_NAME = "invalid-syntax"
INTERNAL_ERROR_CODE = "MFX999"
INTERNAL_ERROR_NAME = "internal-error"

#: Codes the engine itself emits; they are always enabled and cannot be ignored (like ruff's
#: syntax errors): a file that does not parse or a crashing rule must never pass silently.
ENGINE_CODES = {SYNTAX_ERROR_CODE: SYNTAX_ERROR_NAME, INTERNAL_ERROR_CODE: INTERNAL_ERROR_NAME}

_MODULE_RE = re.compile(r"^mfx(\d{3})_\w+\.py$")

#: Where the generated rule pages live; ``{code}`` is replaced. Override with ``MFX_DOCS_URL``.
DEFAULT_DOCS_URL = (
    "https://github.com/metaflow-extension-template/metaflow-extension-template/"
    "blob/main/docs/rules/{code}.md"
)


def rules_dir() -> Path:
    return Path(__file__).resolve().parent / "rules"


@lru_cache(maxsize=None)
def rule_modules() -> dict[str, str]:
    """``{code: module name}`` for every rule module, from file names only."""
    out: dict[str, str] = {}
    for entry in sorted(os.listdir(rules_dir())):
        match = _MODULE_RE.match(entry)
        if match:
            out.setdefault(f"MFX{match.group(1)}", entry[:-3])
    return out


def known_codes() -> list[str]:
    """Every selectable code: the rules plus the engine's own codes."""
    return sorted(set(rule_modules()) | set(ENGINE_CODES))


@lru_cache(maxsize=None)
def rules_fingerprint() -> str:
    """Hash of the rule sources: editing a rule invalidates cached results, even without a
    version bump (rules change often during development)."""
    digest = hashlib.sha256()
    base = rules_dir()
    for name in sorted(os.listdir(base)):
        if name.endswith(".py"):
            digest.update(name.encode())
            digest.update((base / name).read_bytes())
    for extra in ("rule.py", "applicability.py", "engine/runner.py", "engine/context.py", "engine/noqa.py", "engine/index.py", "engine/positions.py"):
        path = base.parent / extra
        if path.exists():
            digest.update(path.read_bytes())
    # Shared analyses and the project-file readers (TOML/YAML positions, noqa) decide findings as
    # much as the rules do.
    for package in ("analysis", "projectfiles"):
        folder = base.parent / package
        if folder.is_dir():
            for name in sorted(os.listdir(folder)):
                if name.endswith(".py"):
                    digest.update(f"{package}/{name}".encode())
                    digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:16]


def docs_url(code: str) -> str:
    return os.environ.get("MFX_DOCS_URL", DEFAULT_DOCS_URL).format(code=code)
