"""Print, per carrier and rule, how many INVALID cases are flagged at the marked place and how many
VALID cases are flagged (false positives)."""

from collections import defaultdict

from . import CARRIERS, all_cases, run

rows = defaultdict(lambda: [0, 0, 0, 0])  # bad flagged, bad, good flagged, good
missed = []
for case in all_cases():
    got = run(case)
    r = rows[(case.carrier, case.code or "all")]
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
for carrier in CARRIERS:
    hit = sum(v[0] for (c, _), v in rows.items() if c == carrier)
    n = sum(v[1] for (c, _), v in rows.items() if c == carrier)
    fp = sum(v[2] for (c, _), v in rows.items() if c == carrier)
    ng = sum(v[3] for (c, _), v in rows.items() if c == carrier)
    if n or ng:
        print(f"{carrier:15} INVALID flagged at the marked line {hit}/{n}; VALID false positives {fp}/{ng}")
print("\n".join(missed))
