"""Intra-procedural taint tracking for the security rules (MFX4xx).

A *source* is an expression that yields something sensitive: a credential read from the
environment (``os.environ["AWS_SECRET_ACCESS_KEY"]``, ``os.getenv("GITHUB_TOKEN")``, Metaflow's
``SERVICE_HEADERS``), or the whole environment (``dict(os.environ)``). Taint flows, within one
function, through assignments, containers, string building and mutating calls
(``d[k] = t``, ``d.update(t)``, ``lst.append(t)``); module-level constants bound to a source
are tainted in every function. Comparisons, ``len()``, ``bool()`` and masking helpers stop it.

A *sink* is where a value becomes visible: a file (``json.dump``, ``yaml.dump`` to a stream,
``.write``, ``Path.write_text``), a command line (``subprocess.*`` arguments, ``os.system``),
a log (``print``, ``logging``, ``click.echo``, ``echo``), or, for the whole environment, the
environment of a remote job (an ``env=`` keyword of a call that is not a local process API).

The analysis is flow-insensitive inside a function (an assignment anywhere taints the name
everywhere in that function), which errs towards reporting; sinks are matched precisely.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import libcst as cst

from mfx.analysis.backend_names import (
    ImportMap,
    call_name,
    child_nodes,
    dotted_of_node,
    keyword,
    string_value,
    walk,
)
from mfx.engine.context import FileContext
from mfx.engine.index import isa, memo

#: Text every match of SECRET_NAME contains (compared without case): the applicability words of
#: rules that look for credential names (tests/checker/test_applicability_gates.py checks them).
SECRET_NAME_WORDS = ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "APIKEY", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY",
                     "AUTH_KEY", "CREDENTIAL", "SERVICE_HEADERS", "AUTHORIZATION", "SESSION_KEY")
SECRET_NAME = re.compile(
    r"(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY(?!_ID)|PRIVATE_KEY|AUTH_KEY|CREDENTIAL|"
    r"SERVICE_HEADERS|AUTHORIZATION|SESSION_KEY|CLIENT_SECRET)",
    re.IGNORECASE,
)
_NOT_SECRET_SUFFIX = re.compile(r"(_FILE|_PATH|_DIR|_URL|_URI|_ENDPOINT|_NAME|_ID|_ARN|_REGION|_TYPE|_HEADER_NAME)$", re.IGNORECASE)

#: Metaflow configuration values that carry credentials.
METAFLOW_SECRET_CONFIG = frozenset({"SERVICE_HEADERS", "SERVICE_AUTH_KEY"})

_SANITIZERS = frozenset({"len", "bool", "isinstance", "hasattr", "callable", "type", "id", "hash", "sorted_keys"})
#: Calls whose result carries their arguments (string building, containers, serialisation).
_TRANSPARENT = frozenset(
    ["str", "repr", "format", "dict", "list", "tuple", "set", "frozenset", "sorted", "reversed", "copy", "deepcopy", "dumps", "dump", "safe_dump", "quote", "join", "b64encode", "urlsafe_b64encode", "urlencode", "encode", "decode", "strip", "lstrip", "rstrip", "lower", "upper", "replace", "split", "rsplit", "splitlines", "format_map", "items", "values", "keys", "get", "pop", "setdefault", "update", "union", "expandvars", "fspath"]
)
_LOCAL_PROCESS = (
    "subprocess.",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "asyncio.create_subprocess",
    "multiprocessing.",
    "pty.spawn",
    "metaflow.Runner",
    "metaflow.Deployer",
    "metaflow.NBRunner",
    "metaflow.NBDeployer",
    "metaflow.runner.",
)
ENV_KEYWORDS = frozenset({"env", "envs", "environment", "env_vars", "environment_variables", "container_env", "envvars"})


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not _NOT_SECRET_SUFFIX.search(name)


@dataclasses.dataclass(frozen=True)
class Flow:
    sink: str  # "file" | "command" | "log" | "remote-env"
    node: cst.CSTNode  # the sink call
    label: str  # what flows (e.g. "AWS_SECRET_ACCESS_KEY", "os.environ")
    callee: str  # the sink, for messages


class TaintAnalysis:
    def __init__(
        self,
        imports: ImportMap,
        source: Callable[[TaintAnalysis, cst.BaseExpression], str | None],
        lists: dict[str, list[str]] | None = None,
        returns: dict[str, str] | None = None,
    ) -> None:
        self.imports = imports
        self.source = source
        self.tainted: dict[str, str] = {}
        #: module-level constants that are lists of strings (names of variables to forward)
        self.lists: dict[str, list[str]] = lists or {}
        #: loop variable -> the strings it iterates over
        self.loop_values: dict[str, list[str]] = {}
        #: functions of the module whose return value is tainted, by name
        self.returns: dict[str, str] = returns or {}

    # -- expression taint ------------------------------------------------------------------
    def label(self, expr: cst.CSTNode | None) -> str | None:
        """The label of the taint ``expr`` carries, or None."""
        if expr is None:
            return None
        if isa(expr, cst.BaseExpression):
            direct = self.source(self, expr)
            if direct is not None:
                return direct
        if isa(expr, (cst.Comparison,)):
            return None
        if isa(expr, cst.Call):
            name = call_name(expr)
            if name in self.returns and (
                isa(expr.func, cst.Name)
                or (isa(expr.func, cst.Attribute) and isa(expr.func.value, cst.Name) and expr.func.value.value in ("self", "cls"))
            ):
                return self.returns[name]
            if name in _SANITIZERS or (name and re.search(r"mask|redact|hash|sha\d|digest", name, re.IGNORECASE)):
                return None
            if name not in _TRANSPARENT:
                return None  # an unknown call's result is not assumed to carry its arguments
            # the receiver (``secret.strip()``) and every argument; a method of os.environ
            # (get/items/keys) reads it, it does not copy it whole
            parts = [a.value for a in expr.args]
            if isa(expr.func, cst.Attribute) and self.imports.resolve(expr.func.value) != "os.environ":
                parts.insert(0, expr.func.value)
            for part in parts:
                lab = self.label(part)
                if lab is not None:
                    return lab
            return None
        if isa(expr, cst.Name):
            return self.tainted.get(expr.value)
        if isa(expr, cst.Attribute):
            dotted = dotted_of_node(expr)
            if dotted is not None and dotted in self.tainted:
                return self.tainted[dotted]
            return self.label(expr.value)
        if isa(expr, (cst.Lambda, cst.FunctionDef)):
            return None
        if isa(expr, cst.Subscript) and self.imports.resolve(expr.value) == "os.environ":
            return None  # one variable: only the source predicate decides
        for child in child_nodes(expr):
            if isa(child, (cst.Name,)) and isa(expr, (cst.Arg,)) and child is getattr(expr, "keyword", None):
                continue
            if isa(expr, cst.Attribute) and child is expr.attr:
                continue
            lab = self.label(child)
            if lab is not None:
                return lab
        return None

    # -- statements --------------------------------------------------------------------------
    def _taint_target(self, target: cst.BaseExpression, lab: str) -> bool:
        key = None
        if isa(target, cst.Name):
            key = target.value
        elif isa(target, (cst.Tuple, cst.List)):
            changed = False
            for el in target.elements:
                changed |= self._taint_target(el.value, lab)
            return changed
        elif isa(target, cst.Subscript):
            return self._taint_target(target.value, lab)
        elif isa(target, cst.Attribute):
            key = dotted_of_node(target)
        if key is None or key in self.tainted:
            return False
        self.tainted[key] = lab
        return True

    def run(self, body: cst.CSTNode) -> None:
        assigns = collect_flow_nodes(body)
        for node in assigns:
            if isa(node, (cst.For, cst.CompFor)) and isa(node.target, cst.Name):
                values = None
                if isa(node.iter, cst.Name):
                    values = self.lists.get(node.iter.value)
                elif isa(node.iter, (cst.List, cst.Tuple)):
                    values = [v for v in (string_value(e.value) for e in node.iter.elements) if v is not None]
                if values:
                    self.loop_values[node.target.value] = values
        for _ in range(6):
            changed = False
            for node in assigns:
                if isa(node, cst.Assign):
                    lab = self.label(node.value)
                    if lab:
                        for t in node.targets:
                            changed |= self._taint_target(t.target, lab)
                elif isa(node, (cst.AnnAssign, cst.AugAssign)) and node.value is not None:
                    lab = self.label(node.value)
                    if lab:
                        changed |= self._taint_target(node.target, lab)
                elif isa(node, (cst.For, cst.CompFor)):
                    lab = self.label(node.iter)
                    if lab:
                        changed |= self._taint_target(node.target, lab)
                elif isa(node, cst.NamedExpr):
                    lab = self.label(node.value)
                    if lab:
                        changed |= self._taint_target(node.target, lab)
                elif isa(node, cst.WithItem) and node.asname is not None:
                    lab = self.label(node.item)
                    if lab:
                        changed |= self._taint_target(node.asname.name, lab)
                elif isa(node, cst.Call):
                    f = node.func
                    if isa(f, cst.Attribute) and f.attr.value in ("update", "append", "extend", "setdefault", "insert", "add"):
                        for a in node.args:
                            lab = self.label(a.value)
                            if lab:
                                changed |= self._taint_target(f.value, lab)
                                break
            if not changed:
                break


_FLOW_NODES = (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.WithItem, cst.Call)
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# The classes above are concrete (libcst never subclasses them), so exact type tests are
# equivalent to isinstance() and avoid ABCMeta's slow instance check in these hot loops.
_FLOW_TYPES = frozenset(_FLOW_NODES)
_SCOPE_TYPES = frozenset(_SCOPES)


def own_nodes(body: cst.CSTNode) -> list[cst.CSTNode]:
    """Every node of ``body`` outside functions/classes nested in it (kept with the file's index)."""
    return memo("own_nodes", body, _own_nodes)


def _own_nodes(body: cst.CSTNode) -> list[cst.CSTNode]:
    return [n for n in walk(body, _SCOPE_TYPES) if n is not body]


def collect_flow_nodes(body: cst.CSTNode) -> list[cst.CSTNode]:
    """Assignments, loops and calls of ``body``, not of functions nested in it."""
    return [n for n in own_nodes(body) if type(n) in _FLOW_TYPES]


# -- sources -------------------------------------------------------------------------------------
def _env_keys(a: TaintAnalysis, expr: cst.BaseExpression) -> list[str] | None:
    """The variable names read by ``os.environ["X"]``, ``os.environ.get(X)``, ``os.getenv(X)``;
    for a loop variable over a list of names, every name of the list."""
    key: cst.BaseExpression | None = None
    imports = a.imports
    if isinstance(expr, cst.Subscript) and imports.resolve(expr.value) == "os.environ" and len(expr.slice) == 1:
        sl = expr.slice[0].slice
        if isinstance(sl, cst.Index):
            key = sl.value
    elif isinstance(expr, cst.Call) and expr.args:
        full = imports.resolve(expr.func)
        if full in ("os.environ.get", "os.getenv", "os.environ.pop", "os.environ.setdefault"):
            key = expr.args[0].value
    if key is None:
        return None
    literal = string_value(key)
    if literal is not None:
        return [literal]
    if isinstance(key, cst.Name) and key.value in a.loop_values:
        return a.loop_values[key.value]
    return None


def secret_source(a: TaintAnalysis, expr: cst.BaseExpression) -> str | None:
    keys = _env_keys(a, expr)
    if keys is not None:
        secret = [k for k in keys if is_secret_name(k)]
        return secret[0] if secret else None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        full = a.imports.resolve(expr)
        if full and full.startswith("metaflow.metaflow_config.") and full.rsplit(".", 1)[1] in METAFLOW_SECRET_CONFIG:
            return full.rsplit(".", 1)[1]
    return None


def whole_environ_source(a: TaintAnalysis, expr: cst.BaseExpression) -> str | None:
    imports = a.imports
    kind = type(expr)  # exact types: concrete classes libcst never subclasses
    if (kind is cst.Name or kind is cst.Attribute) and imports.resolve(expr) == "os.environ":
        return "os.environ"
    if kind is cst.Call:
        full = imports.resolve(expr.func)
        if full == "os.environ.copy":
            return "os.environ"
        if isinstance(expr.func, cst.Name) and expr.func.value == "dict" and len(expr.args) == 1:
            if imports.resolve(expr.args[0].value) == "os.environ":
                return "os.environ"
    if isinstance(expr, cst.Dict):
        for el in expr.elements:
            if isinstance(el, cst.StarredDictElement) and imports.resolve(el.value) == "os.environ":
                return "os.environ"
    if isinstance(expr, cst.DictComp) and not expr.for_in.ifs:
        it = expr.for_in.iter
        if isinstance(it, cst.Call) and imports.resolve(it.func) == "os.environ.items":
            return "os.environ"
    return None


# -- sinks ---------------------------------------------------------------------------------------
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})


def _sink_of(imports: ImportMap, call: cst.Call) -> tuple[str, list[cst.BaseExpression], str] | None:
    """(sink kind, the argument expressions that reach it, callee) for a sink call."""
    full = imports.resolve(call.func) or ""
    name = call_name(call) or ""
    pos = [a.value for a in call.args if a.keyword is None]
    if full in ("json.dump", "pickle.dump", "toml.dump", "marshal.dump") and pos:
        return "file", [pos[0]], full
    if full in ("yaml.dump", "yaml.safe_dump", "yaml.dump_all", "yaml.safe_dump_all", "ruamel.yaml.dump"):
        if len(pos) >= 2 or keyword(call, "stream") is not None:
            return "file", [pos[0]] if pos else [], full
        return None
    if isinstance(call.func, cst.Attribute) and name in ("write", "writelines", "write_text", "write_bytes"):
        target = dotted_of_node(call.func.value) or ""
        if imports.resolve(call.func.value) in ("sys.stdout", "sys.stderr") or target.endswith(("stdout", "stderr")):
            return "log", [a.value for a in call.args], full or name
        return "file", [a.value for a in call.args], name
    if full.startswith("subprocess.") or full in ("os.system", "os.popen") or full.startswith(("os.exec", "os.spawn", "asyncio.create_subprocess")):
        args = pos[:1] if full.startswith("subprocess.") or full in ("os.system", "os.popen") else pos
        kw = keyword(call, "args")
        if kw is not None:
            args.append(kw.value)
        return "command", args, full
    if full in ("print", "warnings.warn") or full.endswith(("click.echo", "click.secho")):
        return "log", [a.value for a in call.args if a.keyword is None or a.keyword.value not in ("file", "err", "fg")], full
    if name in ("echo", "echo_always", "secho") :
        return "log", pos, name
    if isinstance(call.func, cst.Attribute) and name in _LOG_METHODS:
        owner = dotted_of_node(call.func.value) or ""
        owner_full = imports.resolve(call.func.value) or ""
        if owner_full == "logging" or owner_full.startswith("logging.") or re.search(r"log", owner.split(".")[-1], re.IGNORECASE):
            return "log", pos, f"{owner}.{name}"
    return None


def _remote_env_sink(imports: ImportMap, call: cst.Call) -> tuple[str, list[cst.BaseExpression], str] | None:
    full = imports.resolve(call.func) or call_name(call) or ""
    if any(full.startswith(p) for p in _LOCAL_PROCESS) or full.endswith("Popen"):
        return None
    args = [a.value for a in call.args if a.keyword is not None and a.keyword.value in ENV_KEYWORDS]
    if not args:
        return None
    return "remote-env", args, full


# -- entry points ----------------------------------------------------------------------------------
def flows(file: FileContext, imports: ImportMap, kind: str) -> list[Flow]:
    """Every source→sink flow of ``kind`` ("secret" or "environ") in ``file`` (kept on the file:
    the rules of one kind share it)."""
    names = file.cached(_own_names, lambda: {id(f): _own_names(f) for f in _functions(file.module)})
    return file.cached((flows, kind), lambda: _flows(file.module, imports, kind, names))


def _flows(module: cst.Module, imports: ImportMap, kind: str, own_names: dict[int, set[str]] | None = None) -> list[Flow]:
    source = secret_source if kind == "secret" else whole_environ_source
    lists = _string_lists(module)
    module_level = TaintAnalysis(imports, source, lists)
    module_level.run(module)  # its own nodes: not those of the functions and classes it defines
    out: list[Flow] = []
    seen: set[int] = set()
    functions = _functions(module)
    globals_ = {k: v for k, v in module_level.tainted.items() if "." not in k}
    roots = _source_names(imports)

    def may_carry_taint(func: cst.FunctionDef) -> bool:
        # Taint enters a function only through a source (whose names are in ``roots``), a
        # tainted module-level name or a call of a function returning taint; a function that
        # names none of them has nothing tainted and no flow (its analysis would find none).
        names = own_names[id(func)] if own_names is not None else _own_names(func)
        return not (names.isdisjoint(roots) and names.isdisjoint(globals_) and names.isdisjoint(returns))

    # An analysis of a function depends on ``returns`` only, which only gains keys: one made
    # when ``returns`` had as many keys as now is the one a fresh analysis would make (the
    # usual case: no function returns taint, and the passes below would analyse each function
    # three times over). ``label`` never changes an analysis after its ``run``.
    analysed: dict[int, tuple[int, TaintAnalysis]] = {}

    def analysis(func: cst.FunctionDef) -> TaintAnalysis:
        hit = analysed.get(id(func))
        if hit is not None and hit[0] == len(returns):
            return hit[1]
        a = TaintAnalysis(imports, source, lists, returns)
        a.tainted = dict(globals_)
        a.run(func)
        analysed[id(func)] = (len(returns), a)
        return a

    # pass 1: which functions return a tainted value (one level of calls within the module)
    returns: dict[str, str] = {}
    for _ in range(2):
        for func in functions:
            if not may_carry_taint(func):
                continue
            a = analysis(func)
            for ret in _returns(func):
                lab = a.label(ret.value)
                if lab is not None:
                    returns.setdefault(func.name.value, lab)
    for func in functions:
        if not may_carry_taint(func):
            continue
        a = analysis(func)
        for call in _calls(func):
            if id(call) in seen:
                continue
            found = _sink_of(imports, call)
            if kind == "environ":
                remote = _remote_env_sink(imports, call)
                if found is None or found[0] != "file":
                    found = remote
            if found is None:
                continue
            sink, args, callee = found
            for arg in args:
                lab = a.label(arg)
                if lab is not None:
                    seen.add(id(call))
                    out.append(Flow(sink, call, lab, callee))
                    break
    return out


#: Names a source expression is made of: every source reads ``os.environ``, ``os.getenv`` or a
#: ``metaflow_config`` value, spelled with one of these names or a local alias of them.
_SOURCE_NAMES = frozenset({"environ", "getenv", *METAFLOW_SECRET_CONFIG})


def _source_names(imports: ImportMap) -> frozenset[str]:
    aliases = {
        local
        for local, full in imports.names.items()
        if full.startswith(("os.environ", "os.getenv", "metaflow.metaflow_config"))
    }
    return _SOURCE_NAMES | aliases


def _own_names(func: cst.FunctionDef) -> set[str]:
    """The identifiers used in ``func`` outside the functions nested in it."""
    return {n.value for n in own_nodes(func) if type(n) is cst.Name}


def _functions(module: cst.Module) -> list[cst.FunctionDef]:
    return [n for n in walk(module) if type(n) is cst.FunctionDef]


def _calls(func: cst.FunctionDef) -> list[cst.Call]:
    """Calls in ``func`` but not in functions nested inside it (those are analysed on their own)."""
    return [n for n in own_nodes(func) if type(n) is cst.Call]


def _string_lists(module: cst.Module) -> dict[str, list[str]]:
    """Module-level ``NAME = [<string literals>]`` (or a tuple)."""
    out: dict[str, list[str]] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
                if isinstance(value, (cst.List, cst.Tuple)):
                    strings = [v for v in (string_value(e.value) for e in value.elements) if v is not None]
                    targets = small.targets if isinstance(small, cst.Assign) else [small]
                    for t in targets:
                        if isinstance(t.target, cst.Name) and strings:
                            out[t.target.value] = strings
    return out


def _returns(func: cst.FunctionDef) -> list[cst.Return]:
    return [n for n in own_nodes(func) if type(n) is cst.Return and n.value is not None]
