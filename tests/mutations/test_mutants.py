"""The shared pieces of the kill-rate checks (mutants.py), without an engine: applying and
reverting a patch, judging a mutant against the baseline, the report table and the final asserts."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutations.mutants import Mutant, apply_patch, assert_all_killed_and_diagnosed, rates, report_table, settle

PATCH = """# mfx-mutation: pitfall=O15 expect=test_a,test_b
# attempt 1-based
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,3 +1,3 @@
 def attempt(native):
-    return native - 1
+    return native
 # end
"""


def mutant(tmp_path: Path, **kw) -> Mutant:
    return Mutant(tmp_path / "o15_x.patch", "O15", ["test_a", "test_b"], "attempt 1-based", **kw)


def test_apply_and_revert_a_patch(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    original = "def attempt(native):\n    return native - 1\n# end\n"
    (repo / "pkg" / "mod.py").write_text(original)
    patch_file = tmp_path / "o15_x.patch"
    patch_file.write_text(PATCH)
    assert apply_patch(repo, patch_file).returncode == 0
    assert "return native\n" in (repo / "pkg" / "mod.py").read_text()
    assert apply_patch(repo, patch_file).returncode != 0  # --forward: an applied patch is not applied twice
    assert apply_patch(repo, patch_file, reverse=True).returncode == 0
    assert (repo / "pkg" / "mod.py").read_text() == original


def test_settle_judges_only_through_tests_that_pass_unmutated(tmp_path: Path) -> None:
    killed = mutant(tmp_path, outcomes={"test_a": "passed", "test_b": "failed"},
                    headlines={"test_b": "[O15 retry count ...] first attempt ran with retry_count=1"})
    settle(killed, {"test_a": "passed", "test_b": "passed"})
    assert (killed.result, killed.diagnosed) == ("killed", True)
    wrong_name = mutant(tmp_path, outcomes={"test_a": "failed"}, headlines={"test_a": "[O20 init skipped] run failed before its first task"})
    settle(wrong_name, {"test_a": "passed"})
    assert (wrong_name.result, wrong_name.diagnosed) == ("killed", False)
    # a failure of a test that already fails unmutated proves nothing
    stale = mutant(tmp_path, outcomes={"test_a": "failed", "test_b": "failed"})
    settle(stale, {"test_a": "failed", "test_b": "skipped"})
    assert stale.result == "not evaluable" and "test_a=failed" in stale.detail
    survivor = mutant(tmp_path, outcomes={"test_a": "passed", "test_b": "passed"})
    settle(survivor, {"test_a": "passed"})
    assert survivor.result == "SURVIVED" and not survivor.diagnosed
    broken = mutant(tmp_path, result="does not apply")
    settle(broken, {"test_a": "passed"})
    assert broken.result == "does not apply"


def test_report_and_final_asserts(tmp_path: Path) -> None:
    good = mutant(tmp_path, outcomes={"test_a": "failed"}, headlines={"test_a": "[O15 x] a | b"})
    settle(good, {"test_a": "passed"})
    table = report_table([good])
    assert table[2].startswith("| `o15_x.patch` | O15 |") and "a \\| b" in table[2]
    assert "**1/1**" in rates([good])
    assert_all_killed_and_diagnosed([good], "report")
    misdiagnosed = mutant(tmp_path, outcomes={"test_a": "failed"}, headlines={"test_a": "[O2 x] y"})
    settle(misdiagnosed, {"test_a": "passed"})
    with pytest.raises(AssertionError, match="no failure headline names"):
        assert_all_killed_and_diagnosed([good, misdiagnosed], "report")
    survivor = mutant(tmp_path, outcomes={"test_a": "passed"})
    settle(survivor, {"test_a": "passed"})
    with pytest.raises(AssertionError, match="not detected"):
        assert_all_killed_and_diagnosed([good, survivor], "report")
