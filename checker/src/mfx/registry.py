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


def package_dir() -> Path:
    """The directory of the installed ``mfx`` package."""
    return Path(__file__).resolve().parent


def package_fingerprint(root: Path | None = None) -> str:
    """Hash of every file of the ``mfx`` package under ``root`` (default: the installed one),
    and of the libcst version: a change in any module (a rule, an analysis, the engine, the
    output code, the configuration reader...) or a libcst upgrade invalidates cached results,
    even without a version bump. Byte-compiled files and ``__pycache__`` are left out."""
    base = package_dir() if root is None else Path(root)
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rel_dir = os.path.relpath(dirpath, base).replace(os.sep, "/")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, name)
            digest.update(f"{rel_dir}/{name}".encode("utf-8", "surrogateescape") + b"\0")
            with open(path, "rb") as fh:
                digest.update(fh.read())
            digest.update(b"\0")
    digest.update(f"libcst {_libcst_version()}".encode())
    return digest.hexdigest()[:16]


def _libcst_version() -> str:
    """libcst's version file, read without importing libcst (a warm run must not import it)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("libcst")
        if spec is None or not spec.origin:
            return "missing"
        with open(os.path.join(os.path.dirname(spec.origin), "_version.py"), "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()[:16]
    except (OSError, ImportError, ValueError):
        return "unknown"


@lru_cache(maxsize=None)
def rules_fingerprint() -> str:
    """The fingerprint the cache is keyed by: :func:`package_fingerprint` of the installed mfx,
    computed once per process."""
    return package_fingerprint()


def docs_url(code: str) -> str:
    return os.environ.get("MFX_DOCS_URL", DEFAULT_DOCS_URL).format(code=code)
