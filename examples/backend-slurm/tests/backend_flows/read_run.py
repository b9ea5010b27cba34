"""Print what the Metaflow client sees of the latest PlumbingFlow run, as JSON (run in a subprocess
so Metaflow's configuration comes from the test's environment)."""

import json
import sys

from metaflow import Flow, namespace

namespace(None)
run = Flow("PlumbingFlow")[sys.argv[1]]
join = next(iter(run["join"]))
flaky = next(iter(run["flaky"]))
start = next(iter(run["start"]))
print(json.dumps({
    "successful": run.successful,
    "fan": sorted(t.data.doubled for t in run["fan"]),
    "total": join.data.total,
    "var": join.data.var,
    "runtime_env": join.data.runtime_env,
    "no_local_root": join.data.no_local_root,
    "greeting": join.data.greeting,
    "attempt": flaky.data.attempt,
    "start_stdout": start.stdout,
    "metadata_keys": sorted(start.metadata_dict),
}))
