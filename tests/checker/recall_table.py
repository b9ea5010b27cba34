"""Tally of an adversarial case set (the `python -m command_model` / `python -m shell_commands`
printers): per key, INVALID cases flagged at the marked place and VALID cases flagged."""

from collections import defaultdict


def tally(cases, run, key):
    """``({key(case): [bad flagged, bad, good flagged, good]}, lines naming each miss)``."""
    rows = defaultdict(lambda: [0, 0, 0, 0])
    missed = []
    for case in cases:
        got = run(case)
        r = rows[key(case)]
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
    return rows, missed
