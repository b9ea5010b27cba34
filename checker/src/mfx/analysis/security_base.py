"""Base class of the flow-based security rules: run the shared taint analysis once per file and
report the flows that end in the rule's kind of sink."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from mfx.analysis.backend_model import backend_model
from mfx.analysis.security_taint import Flow, flows
from mfx.rule import Rule


class SecurityFlowRule(Rule):
    source_kind: ClassVar[str] = "secret"
    sink_kinds: ClassVar[tuple[str, ...]] = ()
    applies_to_core = True

    def visit_Module(self, node: cst.Module) -> None:
        if self.context.is_test:
            return
        imports = backend_model(node, self.context.package_name).imports
        for flow in flows(node, imports, self.source_kind):
            if flow.sink in self.sink_kinds:
                self.report(flow.node, self.describe(flow))

    def describe(self, flow: Flow) -> str:  # pragma: no cover - each rule words its own
        raise NotImplementedError
