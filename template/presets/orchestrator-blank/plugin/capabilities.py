"""USER-OWNED: the optional capabilities this extension supports.

Ids come from `mfx.compliance.capabilities` (OPTIONAL orchestrator ones), e.g. "nested-foreach",
"switch", "schedule", "resume", "delete", "list-deployments", "trigger-events". `create` refuses a
flow that needs an undeclared capability with a "not supported" error (pitfall O26), and the
compliance suite runs the tests of exactly these capabilities. Add ids as your engine.py
implements them.
"""

CAPABILITIES = frozenset({"nested-foreach", "switch"})
