"""Print, per command-builder shape and rule, how many INVALID cases are flagged at the marked
place and how many VALID cases are flagged (false positives)."""

from collections import defaultdict

from . import SHAPES, all_cases, run

rows = defaultdict(lambda: [0, 0, 0, 0])  # bad flagged, bad, good flagged, good
missed = []
for case in all_cases():
    got = run(case)
    r = rows[(case.pitfall, case.code)]
    if case.invalid:
        r[1] += 1
        ok = sorted(got) == sorted(case.expected())
        r[0] += ok
        if not ok:
            missed.append(f"  MISSED {case.id}: got {got}, want {sorted(case.expected())}")
    else:
        r[3] += 1
        r[2] += bool(got)
        if got:
            missed.append(f"  FALSE POSITIVE {case.id}: got {got}")
for shape in SHAPES:
    for (s, code), (hit, n, fp, ng) in sorted(rows.items()):
        if s == shape:
            print(f"{shape:7} {code}: INVALID flagged at the builder {hit}/{n}; VALID false positives {fp}/{ng}")
print("\n".join(missed))
