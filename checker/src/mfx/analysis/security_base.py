"""Base class of the flow-based security rules: run the shared taint analysis once per file and
report the flows that end in the rule's kind of sink."""

from __future__ import annotations

from typing import ClassVar, Iterator

from mfx.analysis.backend_model import backend_model
from mfx.analysis.security_taint import Flow, flows
from mfx.engine.context import FileContext
from mfx.rule import Report, Rule

#: Applicability pre-check of the flow rules (see :mod:`mfx.applicability`). Every flow starts
#: at a source (``security_taint.secret_source`` / ``whole_environ_source``); without one no
#: value is ever tainted, so no flow exists. The sources are recognised only through resolved
#: qualified names: ``os.environ…`` needs the identifier ``environ`` in the file, ``os.getenv``
#: needs ``getenv``, Metaflow's secret settings (``metaflow.metaflow_config.X``) need
#: ``metaflow_config`` in the file or in its package name (a relative import inside that package).
SOURCE_TRIGGERS = {
    "secret": ("environ", "getenv", "metaflow_config"),
    "environ": ("environ",),
}


class SecurityFlowRule(Rule):
    source_kind: ClassVar[str] = "secret"
    sink_kinds: ClassVar[tuple[str, ...]] = ()
    applies_to_core = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # Each flow rule's pre-check is its source kind's words (the argument is above).
        if "TRIGGERS" not in vars(cls):
            cls.TRIGGERS = SOURCE_TRIGGERS[cls.source_kind]

    def check(self, file: FileContext) -> Iterator[Report]:
        if file.is_test:
            return
        imports = backend_model(file).imports
        for flow in flows(file, imports, self.source_kind):
            if flow.sink in self.sink_kinds:
                yield self.report(flow.node, self.describe(flow))

    def describe(self, flow: Flow) -> str:  # pragma: no cover - each rule words its own
        raise NotImplementedError
