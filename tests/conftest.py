import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Generated repos install mfx from this checkout, not from wherever copier recorded.
os.environ.setdefault("MFX_REQUIREMENT", f"{Path(__file__).resolve().parents[1] / 'checker'}[compliance]")
