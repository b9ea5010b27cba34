"""Print the recall / false positives of the adversarial variants per pitfall shape."""

from collections import defaultdict

from . import all_cases, run

rows = defaultdict(lambda: [0, 0, 0, 0])  # bad flagged, bad, good flagged, good
for case in all_cases():
    got = run(case)
    r = rows[(case.pitfall, case.code)]
    if case.invalid:
        r[1] += 1
        r[0] += bool(got) and set(got) >= case.expected() and len(got) == len(case.expected())
    else:
        r[3] += 1
        r[2] += bool(got)
for (pid, code), (hit, n, fp, ng) in sorted(rows.items()):
    print(f"{pid:4} {code}: INVALID flagged at the marked place {hit}/{n}; VALID false positives {fp}/{ng}")
