"""Start the extension's devstack once per session, export its env.json, stop it at the end.

Protocol (docs/design.md): ``<cmd> up --state-dir D`` starts every service, waits for health,
writes ``D/env.json`` (a flat object of environment variables) and exits 0; ``<cmd> down
--state-dir D`` stops what it started. ``MFX_DEVSTACK_ENV=<env.json>`` reuses a running stack.
Every call is bounded by a timeout so a broken devstack never hangs the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

UP_TIMEOUT = 240.0
DOWN_TIMEOUT = 90.0


class DevstackError(Exception):
    """The devstack did not start, or its env.json is unusable (message has the log tail)."""


def read_env(path: Path) -> Dict[str, str]:
    """Load an env.json: a flat JSON object of strings."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DevstackError(f"cannot read devstack env file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise DevstackError(f"{path} must hold a JSON object of environment variables")
    return {str(k): str(v) for k, v in data.items() if v is not None}


def _command(cmd: List[str]) -> List[str]:
    """``python`` in the configured command means the interpreter running the suite."""
    if cmd and cmd[0] in ("python", "python3"):
        return [sys.executable, *cmd[1:]]
    return list(cmd)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Devstack:
    """One devstack instance, owned by the test session (``down`` is idempotent)."""

    def __init__(self, cmd: List[str], project: Path, state_dir: Path) -> None:
        self.cmd = _command(cmd)
        self.project = Path(project)
        self.state_dir = Path(state_dir)
        self.started = False
        self.env: Dict[str, str] = {}

    def _call(self, action: str, timeout: float) -> subprocess.CompletedProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.state_dir / f"devstack-{action}.log"
        with open(log, "w", encoding="utf-8") as out:
            try:
                proc = subprocess.run(
                    [*self.cmd, action, "--state-dir", str(self.state_dir)],
                    cwd=self.project,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired:
                raise DevstackError(f"`{' '.join(self.cmd)} {action}` did not finish in {timeout:.0f} s; log tail:\n{_tail(log)}") from None
            except OSError as exc:
                raise DevstackError(f"cannot run the devstack command {self.cmd!r}: {exc}") from None
        if proc.returncode != 0:
            raise DevstackError(f"`{' '.join(self.cmd)} {action}` exited {proc.returncode}; log tail:\n{_tail(log)}")
        return proc

    def up(self) -> Dict[str, str]:
        """Start the stack and return its environment (not yet applied to os.environ)."""
        self.started = True  # even a half-started stack must be taken down
        self._call("up", UP_TIMEOUT)
        self.env = read_env(self.state_dir / "env.json")
        return self.env

    def down(self) -> Optional[str]:
        """Stop the stack; returns an error text instead of raising (runs during teardown)."""
        if not self.started:
            return None
        self.started = False
        try:
            self._call("down", DOWN_TIMEOUT)
        except DevstackError as exc:
            return str(exc)
        return None


def apply_env(env: Dict[str, str]) -> None:
    """Export the devstack variables to this process (Deployer subprocesses inherit them)."""
    os.environ.update(env)
