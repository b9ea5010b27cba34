"""Runs shared by several tests of different capabilities (one engine run, several assertions)."""

from __future__ import annotations

import uuid

from mfx.compliance.harness import Harness, Outcome

LINEAR_TAG = f"mfx-linear-{uuid.uuid4().hex[:8]}"


def linear_run(h: Harness) -> Outcome:
    """MfxLinearFlow deployed with two tags and run to success."""
    return h.shared("linear", lambda: h.run("linear_flow", tags=[LINEAR_TAG, "mfx-compliance"], test="linear"))


def catch_run(h: Harness) -> Outcome:
    """MfxCatchFlow: an always-failing @catch step and a once-failing @retry+@catch step."""
    return h.shared("catch", lambda: h.run("catch_flow", test="catch"))
