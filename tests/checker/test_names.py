"""mfx.analysis.names: the one name-resolution module, and the two views rules import from it."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from mfx.analysis import backend_names, names, orchestrator_names

SOURCE = textwrap.dedent(
    """
    import os
    import os.path
    import a.b.c
    import a.x as ax
    from metaflow._vendor import click
    from . import sibling
    from .. import up
    from ..pkg.mod import Thing as T
    from m import *
    try:
        from fast import json
    except ImportError:
        import json
    if TYPE_CHECKING:
        from typing import Any
    else:
        pass

    def f():
        from inner import helper
        import late.mod as lm

    class C:
        import cls_level
    """
)


@pytest.fixture(scope="module")
def module() -> cst.Module:
    return cst.parse_module(SOURCE)


def test_orchestrator_view_keeps_relative_dots_and_skips_function_and_class_imports(module):
    imports = orchestrator_names.import_map(module)
    assert imports == {
        "os": "os",
        "a": "a",
        "ax": "a.x",
        "click": "metaflow._vendor.click",
        "sibling": ".sibling",
        "up": "..up",
        "T": "..pkg.mod.Thing",
        "json": "fast.json",  # a plain `import json` never replaces a binding (as before)
        "Any": "typing.Any",
    }
    expr = cst.parse_expression("click.group")
    assert orchestrator_names.qualify(expr, imports) == "metaflow._vendor.click.group"
    assert orchestrator_names.qualify(cst.parse_expression("unknown.x"), imports) == "unknown.x"
    assert orchestrator_names.qualify(cst.parse_expression("f()"), imports) is None


def test_backend_view_resolves_relative_imports_reads_nested_ones_and_strips_the_vendor_prefix(module):
    imap = backend_names.ImportMap(module, "pkg.sub")
    assert imap.names["sibling"] == "pkg.sub.sibling"
    assert imap.names["up"] == "pkg.up"
    assert imap.names["T"] == "pkg.pkg.mod.Thing"
    assert imap.names["helper"] == "inner.helper" and imap.names["lm"] == "late.mod"
    assert imap.is_imported("cls_level")
    assert imap.resolve(cst.parse_expression("click.option")) == "click.option"
    assert imap.resolve(cst.parse_expression("ax.y")) == "a.x.y"
    assert imap.resolve(cst.parse_expression("nothing")) == "nothing"
    # Relative imports that climb above the known package, or with no package known.
    assert backend_names.ImportMap(module, "").names["sibling"] == "sibling"
    assert backend_names.ImportMap(module, "top").names["up"] == "up"


def test_import_bindings_read_each_alias_once():
    imp = cst.parse_statement("import a.b, c as d\n").body[0]
    assert list(names.import_bindings(imp)) == [("a", "a", False), ("d", "c", True)]
    star = cst.parse_statement("from m import *\n").body[0]
    assert list(names.import_bindings(star)) == []
    rel = cst.parse_statement("from .x import (y as z, w)\n").body[0]
    assert list(names.import_bindings(rel)) == [("z", "y", True), ("w", "w", True)]
    assert names.absolute_module(rel, "p.q") == "p.q.x"
    assert names.absolute_module(cst.parse_statement("from ... import r\n").body[0], "p.q") == ""


@pytest.mark.parametrize(
    "expr, value",
    [('"a"', "a"), ('"a" "b"', "ab"), ("b'x'", None), ("b'x' b'y'", None), ('f"{x}"', None), ('"a" f"{x}"', None), ("1", None)],
)
def test_string_value_is_the_same_in_both_views(expr, value):
    node = cst.parse_expression(expr)
    assert names.string_value(node) == orchestrator_names.string_value(node) == backend_names.string_value(node) == value


def test_call_helpers():
    call = cst.parse_expression("env.get_package_commands(a, *rest, key=1, **kw)")
    assert names.call_name(call) == "get_package_commands"
    assert names.call_name(cst.parse_expression("(lambda: 0)()")) is None
    assert names.keyword(call, "key").value.value == "1" and names.keyword(call, "nope") is None
    assert [a.value.value for a in names.positional(call)] == ["a"]
    assert names.dotted(cst.parse_expression("a.b.c")) == backend_names.dotted_of_node(cst.parse_expression("a.b.c")) == "a.b.c"
    assert names.dotted(cst.parse_expression("a().b")) is None
    assert names.matches_qualified("metaflow.x.click.option", ["click.option"])
    assert not names.matches_qualified("myclick.option", ["click.option"])
    assert not names.matches_qualified(None, ["x"])


def test_both_views_are_the_shared_module():
    """The shared part exists once: what both views export is the very same object."""
    for name in ("call_name", "keyword", "string_value"):
        assert getattr(orchestrator_names, name) is getattr(names, name) is getattr(backend_names, name)
    assert backend_names.dotted_of_node is orchestrator_names.dotted is names.dotted
    assert backend_names.ImportMap is names.ImportMap and orchestrator_names.import_map is names.import_map
