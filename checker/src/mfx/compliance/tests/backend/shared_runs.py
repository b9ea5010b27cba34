"""The runs several tests share, and which test modules need them.

The session fixture starts the runs the selected tests need at once, in the background, so the
long flows overlap instead of queueing one after the other.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

# flow -> Runner arguments; the contract run carries a Config value that differs from the flow's
# default: only a correctly rebuilt inner command (util.dict_to_cli_options) brings it to the task (B5)
SHARED: Dict[str, Dict[str, Any]] = {
    "contract_flow": {"top_level": {"config_value": [("cfg", {"greeting": "from-the-launcher"})]}},
    "retry_flow": {"extra_timeout": 180},  # has a deliberate 60 s wait between attempts (B16)
    "catch_timeout_flow": {},
    "card_flow": {},
}
# test module -> the shared runs its tests read
USERS: Dict[str, Tuple[str, ...]] = {
    "test_contract": ("contract_flow",),
    "test_retries": ("retry_flow",),
    "test_failures": ("catch_timeout_flow",),
    "test_cards": ("card_flow",),
}


def needed(module_names: Iterable[str]) -> List[str]:
    """Shared runs needed by the selected test modules, longest first."""
    order = ["retry_flow", "contract_flow", "catch_timeout_flow", "card_flow"]
    wanted = {flow for name in module_names for flow in USERS.get(name, ())}
    return [flow for flow in order if flow in wanted]
