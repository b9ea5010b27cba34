"""The end every doc generator in tools/ shares: write the page, or with --check say whether it drifted."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(out: Path, text: str, argv: list, root: Path, command: str) -> int:
    """0 written or up to date; 1 out of date (``--check``), naming ``command`` as the fix."""
    rel = out.relative_to(root)
    if "--check" in argv:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{rel} is out of date: run {command}\n")
            return 1
        print(f"{rel} is up to date")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {rel}")
    return 0
