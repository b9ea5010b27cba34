"""``[tool.mfx]`` in pyproject.toml, merged with the command line into one :class:`Settings`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

from mfx.errors import UsageError
from mfx.registry import known_codes
from mfx.selection import Layer, PerFileIgnores, normalize_selector, resolve

#: Directories never walked into (ruff's defaults plus ours).
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "build", "dist", "__pycache__",
    "node_modules", ".nox", ".tox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".mfx_cache",
    ".eggs", "*.egg-info", "site-packages",
)

#: Keys accepted in ``[tool.mfx]``. ``compliance`` belongs to ``mfx compliance``.
_KEYS = {
    "select", "extend-select", "ignore", "per-file-ignores", "exclude", "extend-exclude",
    "cache-dir", "compliance",
}


@dataclasses.dataclass(frozen=True)
class FileConfig:
    """What ``[tool.mfx]`` says, validated; ``root`` is the directory of the pyproject.toml."""

    root: Path
    path: Path | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    cache_dir: str | None = None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.mfx]`` table, from ``start`` upwards."""
    start = start.resolve()
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = _read_toml(candidate)
            except UsageError:
                raise
            if "mfx" in data.get("tool", {}):
                return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None


def _str_list(table: Mapping[str, Any], key: str, origin: str) -> tuple[str, ...] | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"`{key}` in {origin} must be a list of strings")
    return tuple(value)


def load_file_config(config_path: Path | None, search_from: Path) -> FileConfig:
    """Read ``[tool.mfx]`` from ``config_path`` (``--config``) or the nearest pyproject.toml."""
    if config_path is not None:
        if not config_path.is_file():
            raise UsageError(f"config file not found: {config_path}")
        path = config_path.resolve()
    else:
        path = find_pyproject(search_from)
        if path is None:
            return FileConfig(root=search_from.resolve())
    data = _read_toml(path)
    # A dedicated mfx.toml / .mfx.toml may hold the keys at top level.
    table = data if path.name != "pyproject.toml" and "tool" not in data else data.get("tool", {}).get("mfx", {})
    origin = f"[tool.mfx] of {path}" if path.name == "pyproject.toml" else str(path)
    if not isinstance(table, dict):
        raise UsageError(f"{origin} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise UsageError(f"unknown key(s) {', '.join(unknown)} in {origin}; allowed: {', '.join(sorted(_KEYS))}")
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise UsageError(f"`per-file-ignores` in {origin} must be a table of glob = [codes]")
    cache_dir = table.get("cache-dir")
    if cache_dir is not None and not isinstance(cache_dir, str):
        raise UsageError(f"`cache-dir` in {origin} must be a string")
    return FileConfig(
        root=path.parent,
        path=path,
        select=_str_list(table, "select", origin),
        extend_select=_str_list(table, "extend-select", origin) or (),
        ignore=_str_list(table, "ignore", origin) or (),
        per_file_ignores=pfi,
        exclude=_str_list(table, "exclude", origin) or (),
        extend_exclude=_str_list(table, "extend-exclude", origin) or (),
        cache_dir=cache_dir,
    )


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, after merging the config file and the command line."""

    root: Path
    enabled: tuple[str, ...]
    per_file_ignores: PerFileIgnores
    exclude: tuple[str, ...]
    cache_dir: Path
    config_path: Path | None = None

    def fingerprint(self) -> str:
        """Hash of whatever changes the findings for an unchanged file (for the cache key)."""
        payload = json.dumps(
            {"enabled": list(self.enabled), "pfi": [list(map(list, e)) for e in self.per_file_ignores.entries]},
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def build_settings(
    file_config: FileConfig,
    *,
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    exclude: Sequence[str] | None = None,
    extend_exclude: Sequence[str] = (),
    cache_dir: str | None = None,
) -> Settings:
    """Merge: the file's layer first, then the command line's (which wins)."""
    known = known_codes()
    origin = f"[tool.mfx] of {file_config.path}" if file_config.path else "configuration"

    def norm(values: Sequence[str] | None, where: str) -> tuple[str, ...] | None:
        if values is None:
            return None
        out = []
        for value in values:
            for part in value.split(","):
                if part.strip():
                    out.append(normalize_selector(part, known, where))
        return tuple(out)

    layers = [
        Layer(
            select=norm(file_config.select, origin),
            extend_select=norm(file_config.extend_select, origin) or (),
            ignore=norm(file_config.ignore, origin) or (),
        ),
        Layer(
            select=norm(select, "--select"),
            extend_select=norm(extend_select, "--extend-select") or (),
            ignore=norm(ignore, "--ignore") or (),
        ),
    ]
    enabled = resolve(known, layers)
    pfi = PerFileIgnores.build(file_config.per_file_ignores, known, origin)
    excludes = DEFAULT_EXCLUDE + tuple(file_config.exclude if exclude is None else exclude)
    excludes += tuple(file_config.extend_exclude) + tuple(extend_exclude)
    raw_cache = cache_dir or file_config.cache_dir or ".mfx_cache"
    cache_path = Path(raw_cache)
    if not cache_path.is_absolute():
        cache_path = file_config.root / cache_path
    return Settings(
        root=file_config.root,
        enabled=tuple(enabled),
        per_file_ignores=pfi,
        exclude=excludes,
        cache_dir=cache_path,
        config_path=file_config.path,
    )
