"""YAML project files (CI workflows) as PyYAML node graphs, which keep every value's position.

PyYAML comes with mfx through libcst, which requires ``pyyaml`` (``pyyaml-ft``, imported as
``yaml_ft``, on Python 3.13). Only ``compose`` with the safe loader is used: it builds nodes and
never constructs Python objects, so a hostile file can at most be rejected.
"""

from __future__ import annotations

import importlib
from typing import Any, Iterator, Optional


class YamlError(Exception):
    """The file is not valid YAML (or no YAML parser is installed); positions are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def _yaml_module() -> Any:
    for name in ("yaml", "yaml_ft"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def parse(text: str) -> list[Any]:
    """The documents' root nodes (``yaml.Node``), or :class:`YamlError`."""
    yaml = _yaml_module()
    if yaml is None:
        raise YamlError("cannot check this file: PyYAML is not installed (pip install pyyaml)", 1, 1)
    loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    try:
        return [doc for doc in yaml.compose_all(text, Loader=loader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        parts = [p for p in (exc.context, exc.problem) if p]
        message = ", ".join(parts) or "invalid YAML"
        return _raise(message, mark)
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        return _raise(str(exc).splitlines()[0] if str(exc) else "invalid YAML", getattr(exc, "mark", None))
    except RecursionError:
        raise YamlError("too deeply nested to parse", 1, 1) from None


def _raise(message: str, mark: Any) -> list[Any]:
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    raise YamlError(message, line, column)


def is_mapping(node: Any) -> bool:
    return type(node).__name__ == "MappingNode"


def is_sequence(node: Any) -> bool:
    return type(node).__name__ == "SequenceNode"


def is_scalar(node: Any) -> bool:
    return type(node).__name__ == "ScalarNode"


def items(node: Any) -> Iterator[tuple[Any, Any]]:
    """``(key node, value node)`` pairs of a mapping whose keys are scalars."""
    if is_mapping(node):
        for key, value in node.value:
            if is_scalar(key):
                yield key, value


def get(node: Any, key: str) -> Optional[tuple[Any, Any]]:
    for k, v in items(node):
        if k.value == key:
            return k, v
    return None


def position(node: Any) -> tuple[int, int]:
    """1-based (line, column) where ``node`` starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1
