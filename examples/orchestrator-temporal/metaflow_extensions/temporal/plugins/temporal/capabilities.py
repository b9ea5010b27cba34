"""USER-OWNED: the optional capabilities this extension supports.

Ids come from `mfx.compliance.capabilities` (OPTIONAL orchestrator ones). `create` refuses a flow
that needs an undeclared capability with a "not supported" error (pitfall O26), and the
compliance suite runs the tests of exactly these capabilities.
"""

CAPABILITIES = frozenset({"nested-foreach", "switch", "schedule", "delete", "list-deployments", "no-worker", "resume", "trigger-events", "cards"})
