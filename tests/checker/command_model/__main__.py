"""Print, per command-builder shape and rule, how many INVALID cases are flagged at the marked
place and how many VALID cases are flagged (false positives)."""

from recall_table import tally

from . import SHAPES, all_cases, run

rows, missed = tally(all_cases(), run, lambda case: (case.pitfall, case.code))
for shape in SHAPES:
    for (s, code), (hit, n, fp, ng) in sorted(rows.items()):
        if s == shape:
            print(f"{shape:7} {code}: INVALID flagged at the builder {hit}/{n}; VALID false positives {fp}/{ng}")
print("\n".join(missed))
