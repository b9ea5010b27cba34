"""Copy the template's devstack scripts into mfx as package data (``mfx compliance init`` ships them).

    python tools/init_data.py          # write checker/src/mfx/compliance/init_data/*.txt
    python tools/init_data.py --check  # exit 1 when a copy differs from the template's file

The copies are byte for byte (``init`` swaps only the first header line when it writes them);
tests/compliance/test_init.py fails when they drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "checker" / "src"))  # this checkout's mfx, installed or not

from mfx.compliance.init import DATA, SHIPPED  # noqa: E402

TEMPLATE = ROOT / "template"


def source(name: str) -> Path:
    """The template's file rendered as ``name``, wherever the template's layout keeps it."""
    found = [p for p in TEMPLATE.rglob("*") if p.is_file() and "devstack" in str(p) and p.name.replace("{% endif %}", "").endswith(name)]
    if len(found) != 1:
        raise SystemExit(f"expected one template file named {name} under a devstack directory, found {found}")
    return found[0]


def main(argv: list) -> int:
    stale = []
    for name, data_name in sorted(SHIPPED.items()):
        text = source(name).read_text(encoding="utf-8")
        out = DATA / data_name
        if out.is_file() and out.read_text(encoding="utf-8") == text:
            continue
        stale.append(str(out.relative_to(ROOT)))
        if "--check" not in argv:
            out.write_text(text, encoding="utf-8")
            print(f"wrote {out.relative_to(ROOT)}")
    if "--check" in argv and stale:
        sys.stderr.write(f"out of date: {', '.join(stale)}: run python tools/init_data.py\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
