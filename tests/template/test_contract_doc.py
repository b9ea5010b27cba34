"""docs/contract.md is generated from the plumbing's code and must not drift from it."""

import subprocess
import sys

from support.generate import REPO


def test_contract_doc_is_current():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "contract_doc.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_every_plumbing_module_is_documented():
    text = (REPO / "docs" / "contract.md").read_text()
    assert "| `task_runner.py` |" in text and "| `decorator.py` |" in text
