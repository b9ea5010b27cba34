"""Print, per carrier and rule, how many INVALID cases are flagged at the marked place and how many
VALID cases are flagged (false positives)."""

from recall_table import tally

from . import CARRIERS, all_cases, run

rows, missed = tally(all_cases(), run, lambda case: (case.carrier, case.code or "all"))
for carrier in CARRIERS:
    hit = sum(v[0] for (c, _), v in rows.items() if c == carrier)
    n = sum(v[1] for (c, _), v in rows.items() if c == carrier)
    fp = sum(v[2] for (c, _), v in rows.items() if c == carrier)
    ng = sum(v[3] for (c, _), v in rows.items() if c == carrier)
    if n or ng:
        print(f"{carrier:15} INVALID flagged at the marked line {hit}/{n}; VALID false positives {fp}/{ng}")
print("\n".join(missed))
