"""Small helpers shared by the compute-backend rules: sub-tree searches and guard recognition."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import libcst as cst

from mfx.analysis.backend_model import BackendModel, backend_model
from mfx.analysis.backend_names import ImportMap, call_name, matches_qualified, walk
from mfx.engine.context import FileContext
from mfx.engine.index import index_for
from mfx.rule import Rule

N = TypeVar("N", bound=cst.CSTNode)


def find_nodes(root: cst.CSTNode, kind: type[N], where: Callable[[N], bool] | None = None) -> list[N]:
    """All nodes of ``kind`` under ``root`` (root included), in source order (a lookup in the
    module's index when ``root`` belongs to a module indexed in the current lint)."""
    idx = index_for(root)
    if idx is not None:
        found = idx.nodes(kind, within=root)
        return found if where is None else [n for n in found if where(n)]
    return [n for n in walk(root) if isinstance(n, kind) and (where is None or where(n))]


def calls_named(root: cst.CSTNode, *names: str) -> list[cst.Call]:
    """Calls whose called name (last segment) is one of ``names``."""
    return find_nodes(root, cst.Call, lambda c: call_name(c) in names)


def file_calls_named(f: FileContext, *names: str) -> list[cst.Call]:
    """:func:`calls_named` over a whole project file; a file whose text spells none of the
    names (a called name is an identifier) answers without its tree being built."""
    if not any(f.words.mentions(name) for name in names):
        return []
    return calls_named(f.module, *names)


def module_functions(module: cst.Module) -> dict[str, cst.FunctionDef]:
    return {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}


def references_environ(imports: ImportMap, node: cst.CSTNode) -> bool:
    """True if ``node`` reads the process environment (``os.environ``, ``os.getenv``)."""
    for attr in find_nodes(node, cst.Attribute):
        if matches_qualified(imports.resolve(attr), ("os.environ", "os.getenv")):
            return True
    for name in find_nodes(node, cst.Name):
        if imports.resolve(name) in ("os.environ", "os.getenv"):
            return True
    return False


def is_env_guard(imports: ImportMap, funcs: dict[str, cst.FunctionDef], test: cst.BaseExpression) -> bool | None:
    """If ``test`` checks a workload marker in the environment, its polarity: True when it holds
    in the remote process (``"X" in os.environ``, ``in_worker()``), False for the negation
    (``"X" not in os.environ``, ``not in_worker()``); None when it is not such a test.

    A call to a module-level function of the same file counts when that function reads the
    environment (modal's ``in_modal_worker()``)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = is_env_guard(imports, funcs, test.expression)
        return None if inner is None else not inner
    if isinstance(test, cst.BooleanOperation):
        left = is_env_guard(imports, funcs, test.left)
        right = is_env_guard(imports, funcs, test.right)
        return left if left is not None else right
    if isinstance(test, cst.Comparison):
        if references_environ(imports, test):
            negative = any(isinstance(c.operator, (cst.NotIn, cst.Is)) for c in test.comparisons)
            return not negative
        return None
    if isinstance(test, cst.Call):
        if references_environ(imports, test):
            return True
        if isinstance(test.func, cst.Name) and test.func.value in funcs:
            if references_environ(imports, funcs[test.func.value]):
                return True
        return None
    if references_environ(imports, test):
        return True
    return None


def ends_with_return(block: cst.BaseSuite) -> bool:
    body = block.body if isinstance(block, cst.IndentedBlock) else [block]
    if isinstance(block, cst.SimpleStatementSuite):
        return any(isinstance(s, cst.Return) for s in block.body)
    if not body:
        return False
    last = body[-1]
    return isinstance(last, cst.SimpleStatementLine) and any(isinstance(s, cst.Return) for s in last.body)


def is_disallow_retry_exit(imports: ImportMap, stmt: cst.CSTNode) -> bool:
    """``sys.exit(METAFLOW_EXIT_DISALLOW_RETRY)`` or ``sys.exit(202)`` as a statement."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for small in stmt.body:
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            call = small.value
            if imports.resolve(call.func) not in ("sys.exit", "exit", "os._exit") or not call.args:
                continue
            arg = call.args[0].value
            full = imports.resolve(arg) if isinstance(arg, (cst.Name, cst.Attribute)) else None
            if (full and full.endswith("METAFLOW_EXIT_DISALLOW_RETRY")) or (isinstance(arg, cst.Integer) and arg.value == "202"):
                return True
    return False


class BackendFileRule(Rule):
    """Base of per-file backend rules: builds the shared :class:`BackendModel` once per file and
    hands it to :meth:`check_model`. Test files are skipped: the pitfalls are about the code
    that runs in Metaflow's processes, and tests build such inputs on purpose."""

    applies_to_core = False

    def check(self, file: FileContext) -> None:
        if file.is_test:
            return
        self.model: BackendModel = backend_model(file)
        self.check_model(self.model, file.module)

    def check_model(self, model: BackendModel, module: cst.Module) -> None:  # pragma: no cover
        raise NotImplementedError
