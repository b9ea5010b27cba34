import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Generated repos install mfx from this checkout, not from wherever copier recorded.
os.environ.setdefault("MFX_REQUIREMENT", f"{Path(__file__).resolve().parents[1] / 'checker'}[compliance]")

# A stand-in for Metaflow's test/ux (tests/template/ux_standin/README.md): it is run by
# `python -m mfx.compliance.ux --ux-source ...` in its own process, never collected here.
collect_ignore = ["template/ux_standin"]
