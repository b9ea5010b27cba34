"""Reading and writing source files with their declared encoding (PEP 263, BOM)."""

from __future__ import annotations

import codecs
import io
import os
import tokenize
from pathlib import Path


class SourceFile:
    """A file's bytes and text; ``error`` is set when it cannot be read or decoded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = b""
        self.text = ""
        self.encoding = "utf-8"
        self.bom = False
        self.error: str | None = None
        try:
            self.data = path.read_bytes()
        except OSError as exc:
            self.error = f"could not read file: {exc.strerror or exc}"
            if path.is_symlink() and not path.exists():
                try:
                    self.error = (
                        f"could not read file: broken symbolic link (its target {os.readlink(path)} does not exist)"
                    )
                except OSError:
                    pass
            return
        self.text, self.encoding, self.bom, self.error = decode(self.data)


def decode(data: bytes) -> tuple[str, str, bool, str | None]:
    """(text, encoding, had BOM, error). Newlines are kept as they are."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return "", "utf-8", False, f"could not decode file: {exc}"
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8-sig" or bom else encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        return "", encoding, bom, f"could not decode file as {encoding}: {exc}"
    return text, encoding, bom, None


def encode(text: str, encoding: str, bom: bool) -> bytes:
    if bom or encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    return text.encode(encoding)
