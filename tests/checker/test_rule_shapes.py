"""The rule shapes of mfx.rule: a file rule's ``check(file)``, optional libcst node visitors (run
by libcst's own ``visit_batched``), a project rule's ``check(project)``, and what a crashing rule
of each shape leaves of the others' findings."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
from mfx.applicability import ALWAYS
from mfx.engine.context import FileContext, ProjectContext
from mfx.engine.runner import has_visitors, lint_sources
from mfx.rule import ProjectRule, Report, Rule

SOURCE = """\
def outer():
    print("a")

    def inner():
        print("b")
    print("c")


print("d")
"""


class CallsOutsideFunctions(Rule):
    """A visitor rule with state kept between visit and leave (a scope stack)."""

    code, name, message, TRIGGERS = "MFX991", "calls-outside-functions", "call at module level", ALWAYS

    def __init__(self, file: FileContext) -> None:
        super().__init__(file)
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if self.depth == 0:
            self.report(node)


class InnerCalls(Rule):
    """The same question with check(file) and the file index, plus a helper that only records."""

    code, name, message, TRIGGERS = "MFX992", "inner-calls", "call in a nested function", ALWAYS

    def check(self, file: FileContext) -> Iterator[Report]:
        for func in file.nodes(cst.FunctionDef):
            parent = file.parent_of(func)
            while parent is not None and not isinstance(parent, cst.FunctionDef):
                parent = file.parent_of(parent)
            if parent is not None:
                calls = file.nodes(cst.Call, within=func)
                yield self.report(calls[0])  # yielded and recorded: counted once
                for call in calls[1:]:
                    self.report(call)  # recorded only


class Both(Rule):
    """check(file) and a visitor in one rule."""

    code, name, message, TRIGGERS = "MFX993", "both", "both", ALWAYS

    def check(self, file: FileContext) -> Iterator[Report]:
        yield self.report(file.module.body[0], "from check")

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "print":
            self.report(node, "from a visitor")


class CrashingVisitor(Rule):
    code, name, message, TRIGGERS = "MFX994", "crashing-visitor", "never", ALWAYS

    def visit_Call(self, node: cst.Call) -> None:
        raise RuntimeError("boom")


class DefinedFunctions(ProjectRule):
    code, name, message = "MFX995", "defined-functions", "function"

    def check(self, project: ProjectContext) -> Iterator[Report]:
        for path, file in sorted(project.files.items()):
            for func in file.nodes(cst.FunctionDef):
                yield self.report(func.name, path=path)


def _found(rules, sources=None):
    return [(d.code, d.path, d.line, d.message) for d in lint_sources(sources or {"m.py": SOURCE}, rules)]


def test_visitor_rule_runs_through_libcst_with_its_state():
    assert has_visitors(CallsOutsideFunctions) and not has_visitors(InnerCalls)
    assert _found([CallsOutsideFunctions]) == [("MFX991", "m.py", 9, "call at module level")]


def test_check_rule_reports_yielded_and_recorded_once_each():
    assert _found([InnerCalls]) == [("MFX992", "m.py", 5, "call in a nested function")]


def test_a_rule_may_have_both_shapes():
    assert [(line, msg) for _, _, line, msg in _found([Both])] == [(1, "from check"), (2, "from a visitor"), (5, "from a visitor"), (6, "from a visitor"), (9, "from a visitor")]


def test_a_crashing_visitor_is_reported_and_the_other_rules_keep_their_findings():
    found = _found([CallsOutsideFunctions, InnerCalls, CrashingVisitor, DefinedFunctions])
    codes = [c for c, *_ in found]
    assert codes.count("MFX999") == 1 and codes.count("MFX991") == 1 and codes.count("MFX992") == 1
    assert any(c == "MFX999" and "MFX994" in msg for c, _, _, msg in found)
    assert sorted((p, line) for c, p, line, _ in found if c == "MFX995") == [("m.py", 1), ("m.py", 4)]


def test_project_rule_sees_every_file():
    got = _found([DefinedFunctions], {"a/x.py": "def f():\n    pass\n", "b/y.py": "x = 1\n\ndef g():\n    pass\n"})
    assert [(p, line) for _, p, line, _ in got] == [("a/x.py", 1), ("b/y.py", 3)]


def test_has_visitors_is_the_dir_scan():
    """has_visitors (per defining class, remembered) answers what a scan of ``dir(cls)`` with
    ``getattr`` answers, for every rule and for overrides, inherited visitors, no-op visitors
    put back by a subclass, static methods and non-callable ``visit_`` attributes."""
    import libcst as cst
    from mfx.engine.runner import all_rules
    from mfx.rule import Rule

    def by_dir(cls):
        return any(
            (name.startswith("visit_") or name.startswith("leave_"))
            and callable(getattr(cls, name))
            and not getattr(getattr(cls, name), "_is_no_op", False)
            for name in dir(cls)
        )

    class Visits(Rule):
        code = "MFX990"

        def visit_Call(self, node):
            pass

    class Inherits(Visits):
        pass

    class NoOpAgain(Visits):
        visit_Call = cst.CSTVisitor.visit_Call

    class Static(Rule):
        code = "MFX991"

        @staticmethod
        def leave_Name(node):
            pass

    class NotCallable(Rule):
        code = "MFX992"
        visit_Name = None

    class Mixin:
        def leave_Call(self, node):
            pass

    class Mixed(Mixin, NotCallable):
        pass

    class Shadowed(NotCallable, Mixin):  # libcst's no-op leave_Call comes first in the MRO
        pass

    classes = [*all_rules(), Rule, Visits, Inherits, NoOpAgain, Static, NotCallable, Mixin, Mixed, Shadowed]
    answers = {cls: has_visitors(cls) for cls in classes}
    assert answers == {cls: by_dir(cls) for cls in classes}
    assert [answers[c] for c in (Visits, Inherits, NoOpAgain, Static, NotCallable, Mixed, Shadowed)] == [True, True, False, True, False, True, False]
