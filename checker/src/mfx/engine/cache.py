"""Per-file results cached by content, like ``.ruff_cache``.

One JSON file per (mfx version, fingerprint of every file of the mfx package and of the
installed libcst, settings) under the cache directory:
``<cache-dir>/<mfx version>/<key>.json`` holding ``{relative path: {"hash", "diagnostics"}}``
plus the project rules' results keyed by the fingerprint of all files. A file whose path and
bytes hash the same as last time is not parsed again. Writes are atomic (write + rename), and a
corrupt or unreadable cache is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from mfx import __version__
from mfx.engine.diagnostic import Diagnostic
from mfx.engine.serialize import from_data, to_data
from mfx.registry import rules_fingerprint

_GITIGNORE = "# Automatically created by mfx.\n*\n"


def content_hash(relpath: str, data: bytes) -> str:
    digest = hashlib.sha256(relpath.encode("utf-8", "surrogateescape"))
    digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()[:32]


def project_fingerprint(hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()[:32]


class Cache:
    def __init__(self, cache_dir: Path, settings_key: str, enabled: bool = True) -> None:
        self.enabled = enabled
        key = hashlib.sha256(f"{settings_key}:{rules_fingerprint()}".encode()).hexdigest()[:20]
        self.path = cache_dir / __version__ / f"{key}.json"
        self.files: dict[str, dict[str, Any]] = {}
        self.project: dict[str, Any] = {}  # project fingerprint -> diagnostics (as data)
        self._projects_used: set[str] = set()
        self._dirty = False
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
            if isinstance(data, dict):
                self.files = data.get("files", {}) or {}
                self.project = data.get("project", {}) or {}
        except (OSError, ValueError):
            self.files, self.project = {}, {}

    def get(self, relpath: str, digest: str) -> list[Diagnostic] | None:
        entry = self.files.get(relpath)
        if not self.enabled or not entry or entry.get("hash") != digest:
            return None
        try:
            return [from_data(d) for d in entry["diagnostics"]]
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, relpath: str, digest: str, diagnostics: list[Diagnostic]) -> None:
        if self.enabled:
            self.files[relpath] = {"hash": digest, "diagnostics": [to_data(d) for d in diagnostics]}
            self._dirty = True

    def get_project(self, fingerprint: str) -> list[Diagnostic] | None:
        """The project rules' findings for a project whose files have this fingerprint (a run
        over several projects keeps one entry per project, see mfx.engine.projects)."""
        self._projects_used.add(fingerprint)
        entry = self.project.get(fingerprint)
        if not self.enabled or not isinstance(entry, list):
            return None
        try:
            return [from_data(d) for d in entry]
        except (KeyError, TypeError, ValueError):
            return None

    def put_project(self, fingerprint: str, diagnostics: list[Diagnostic]) -> None:
        if self.enabled:
            self._projects_used.add(fingerprint)
            self.project[fingerprint] = [to_data(d) for d in diagnostics]
            self._dirty = True

    def save(self, keep: Iterable[str] | None = None) -> None:
        """Write the cache (only entries for ``keep`` paths, when given). Failures are ignored:
        a read-only checkout still lints, just without a cache."""
        if not self.enabled or not self._dirty:
            return
        if keep is not None:
            wanted = set(keep)
            self.files = {k: v for k, v in self.files.items() if k in wanted}
        if self._projects_used:  # projects of this run only: old fingerprints are never asked again
            self.project = {k: v for k, v in self.project.items() if k in self._projects_used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.path.parent.parent / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text(_GITIGNORE)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"files": self.files, "project": self.project}, fh, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            pass
