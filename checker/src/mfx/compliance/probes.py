"""Probes of what a test needs outside the extension (a conda resolver and its channel).

A test whose precondition is missing skips with a reason starting ``not run:`` (the capability
matrix then says "not run", never "passed").
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import Optional
from urllib.parse import urlparse

from .expect import NOT_RUN as NOT_RUN_PREFIX  # noqa: F401  (re-exported; one spelling in mfx.compliance.expect)

CONDA_BINARIES = ("micromamba", "mamba", "conda")
CONDA_CHANNEL = "https://conda.anaconda.org"


def _reachable(url: str, timeout: float) -> Optional[str]:
    parsed = urlparse(url if "://" in url else f"https://{url}")
    host, port = parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)
    if not host:
        return f"{url!r} is not a URL"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host}:{port} is unreachable ({exc.strerror or type(exc).__name__})"


def conda_unreachable(timeout: float = 3.0) -> Optional[str]:
    """Why Metaflow's conda environment cannot resolve here (no resolver binary, channel down), or None."""
    search = os.environ.get("PATH", "")
    if not any(shutil.which(b, path=search) for b in CONDA_BINARIES):
        return f"no conda resolver on PATH (one of {', '.join(CONDA_BINARIES)}); @conda needs it"
    channel = os.environ.get("MFX_CONDA_CHANNEL_URL", CONDA_CHANNEL)
    problem = _reachable(channel, timeout)
    return f"the conda channel {problem}" if problem else None
