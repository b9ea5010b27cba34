"""Name resolution for the backend and security analyses and rules: the names they import, from
:mod:`mfx.analysis.names` (the one name-resolution module).

The backend view of a module's imports is :class:`ImportMap`: every import (nested ones
included), relative imports resolved against the module's package, Metaflow's vendored prefix
stripped (``from metaflow.decorators import StepDecorator`` makes ``StepDecorator`` mean
``metaflow.decorators.StepDecorator``).
"""

from __future__ import annotations

from mfx.analysis.names import (
    ImportMap,
    call_name,
    keyword,
    matches_qualified,
    positional,
    string_value,
)
from mfx.analysis.names import dotted as dotted_of_node
from mfx.engine.index import code_children, walk_code

__all__ = [
    "ImportMap",
    "call_name",
    "child_nodes",
    "dotted_of_node",
    "keyword",
    "matches_qualified",
    "positional",
    "string_value",
    "walk",
]

#: Direct code children of a node (formatting fields skipped), in the module index's order.
child_nodes = code_children

#: Pre-order walk of a sub-tree's code nodes (``prune``: yielded but not entered).
walk = walk_code
