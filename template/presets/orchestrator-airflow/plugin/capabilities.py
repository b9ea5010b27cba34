"""USER-OWNED: the optional capabilities this extension supports.

Ids come from `mfx.compliance.capabilities` (OPTIONAL orchestrator ones). `create` refuses a flow
that needs an undeclared capability with a "not supported" error (pitfall O26), and the
compliance suite runs the tests of exactly these capabilities. Not declared here: nested-foreach
(one level of dynamic task mapping), resume (the DAG runs the deployed plan), no-worker (Airflow's
scheduler runs the tasks itself), trigger-events and conda.
"""

CAPABILITIES = frozenset({"switch", "schedule", "delete", "list-deployments"})
