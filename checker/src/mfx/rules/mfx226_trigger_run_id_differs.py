"""MFX226: the run id in the trigger's ``pathspec`` is derived differently from the tasks' ``--run-id``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import libcst as cst

from mfx.analysis.command_model import model_of
from mfx.analysis.orchestrator_command import expression_parts
from mfx.analysis.orchestrator_names import call_name, dotted, string_value, walk
from mfx.analysis.orchestrator_project import extension_of, may_mention, nodes_of, source_files
from mfx.engine.context import ProjectContext
from mfx.rule import Invalid, ProjectRule, Report, Valid

_FRESH = {"uuid4", "uuid1", "token_hex", "token_urlsafe", "randint", "getrandbits", "urandom", "time", "time_ns", "now", "utcnow"}
_HASH = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s", "crc32", "adler32", "hash"}
_ENV_READS = {"os.environ.get", "environ.get", "os.getenv", "getenv"}
#: The payload keys next to ``pathspec`` in a deployer attribute file.
_PAYLOAD_KEYS = {"name", "metadata"}


class _Helpers:
    """Project functions by name, looked up on demand (only modules that define the name are
    parsed): their return values stand for calls to them."""

    def __init__(self, files) -> None:
        self.files = files
        self.found: dict = {}

    def get(self, name: str):
        if not name:
            return None
        if name not in self.found:
            self.found[name] = None
            for f in self.files:
                if "def " + name not in f.source:
                    continue
                for n in nodes_of(f):
                    if type(n) is cst.FunctionDef and n.name.value == name:  # type: ignore[attr-defined]
                        self.found[name] = n
                        break
                if self.found[name] is not None:
                    break
        return self.found[name]


@dataclasses.dataclass
class Derivation:
    """How an id is computed: fresh (random or time), a hash, which slices, which env vars."""

    fresh: bool = False
    hashed: bool = False
    slices: frozenset = frozenset()
    env: frozenset = frozenset()

    def kind(self) -> str | None:
        if self.fresh and not self.hashed:
            return "a fresh random/time value"
        if self.hashed and not self.fresh:
            return "a hash"
        return None


class TriggerRunIdDiffers(ProjectRule):
    """## What it does
    Compares how the run id of the ``pathspec`` written to the deployer attribute file is
    computed with how the tasks' ``--run-id`` is computed, across the project (following locals
    and the project's own helper functions): flags the ``pathspec`` when one side is a fresh
    value (``uuid4()``, a timestamp) and the other a hash of something, when both come from the
    same kind of value but only one is sliced (or they are sliced differently), or when the
    trigger reads the run id from an environment variable the project never sets.

    ## Why is this bad?
    The client waits for ``<Flow>/<run id>`` of the ``pathspec``; the tasks register their own run
    id. If the two differ, ``triggered_run.run`` is None forever although the run succeeds
    (pitfall O2). Compute the id once (in ``trigger``), hand it to the execution, and let the tasks
    use that value, or derive both from the same source with the same function.

    ## Example
    ```python
    # trigger
    run_id = "sched-" + uuid.uuid4().hex[:12]
    payload = {"name": name, "metadata": meta, "pathspec": f"{flow_name}/{run_id}"}
    # worker
    run_id = "sched-" + hashlib.sha1(execution_id.encode()).hexdigest()[:12]
    cmd = [..., "step", step, "--run-id", run_id, "--task-id", task_id]
    ```

    ## Use instead
    ```python
    # trigger
    run_id = "sched-" + uuid.uuid4().hex[:12]
    client.start(flow_name, inputs={"metaflow_run_id": run_id})
    # worker
    cmd = [..., "step", step, "--run-id", inputs["metaflow_run_id"], "--task-id", task_id]
    ```
    """

    code = "MFX226"
    name = "trigger-run-id-differs"
    message = "the run id of this `pathspec` is {trigger}, but the tasks' `--run-id` is {tasks}: the client never finds the run"
    pitfalls = ("O2",)

    VALID = [
        Valid(
            {
                "orch/cli.py": (
                    "import uuid, json\n\n"
                    "def trigger(obj, deployer_attribute_file):\n"
                    '    run_id = "sched-" + uuid.uuid4().hex[:12]\n'
                    '    obj.client.start(obj.name, inputs={"run_id": run_id})\n'
                    '    with open(deployer_attribute_file, "w") as f:\n'
                    '        json.dump({"name": obj.name, "metadata": "{}", "pathspec": "%s/%s" % (obj.flow, run_id)}, f)\n'
                ),
                "orch/worker.py": (
                    "def cmd(inputs, step, task_id):\n"
                    '    return ["step", step, "--run-id", inputs["run_id"], "--task-id", task_id]\n'
                ),
            }
        )
    ]
    INVALID = [
        Invalid(
            {
                "orch/cli.py": (
                    "import uuid, json\n\n"
                    "def trigger(obj, deployer_attribute_file):\n"
                    '    run_id = "sched-" + uuid.uuid4().hex[:12]\n'
                    "    obj.client.start(obj.name)\n"
                    '    with open(deployer_attribute_file, "w") as f:\n'
                    '        json.dump({"name": obj.name, "metadata": "{}", "pathspec": "%s/%s" % (obj.flow, run_id)}, f)\n'
                ),
                "orch/worker.py": (
                    "import hashlib\n\n"
                    "def cmd(execution_id, step, task_id):\n"
                    '    run_id = "sched-" + hashlib.sha1(execution_id.encode()).hexdigest()[:12]\n'
                    '    return ["step", step, "--run-id", run_id, "--task-id", task_id]\n'
                ),
            },
            count=1,
        ),
        Invalid(
            {
                "orch/cli.py": (
                    "import uuid, json\n\n"
                    "def trigger(obj, deployer_attribute_file):\n"
                    '    run_id = "sched-" + uuid.uuid4().hex[:12]\n'
                    "    obj.client.start(obj.name)\n"
                    '    with open(deployer_attribute_file, "w") as f:\n'
                    '        json.dump({"name": obj.name, "metadata": "{}", "pathspec": "%s/%s" % (obj.flow, run_id)}, f)\n'
                ),
                "orch/worker.py": """
import hashlib


def to_args(opts):
    out = []
    for k, v in opts.items():
        out += ["--" + k, str(v)]
    return out


def cmd(execution_id, step, task_id):
    opts = {"task-id": task_id}
    opts["run-id"] = "sched-" + hashlib.sha1(execution_id.encode()).hexdigest()[:12]
    return ["step", step] + to_args(opts)
""",
            },
            count=1,
            note="the tasks' run id given in an option dict expanded by a helper",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        files = list(source_files(project))
        payloads = []
        for f in files:
            if not may_mention(f, ("pathspec",)):
                continue
            for func in (n for n in nodes_of(f) if type(n) is cst.FunctionDef):
                for d in walk(func.body):  # type: ignore[attr-defined]
                    if type(d) is not cst.Dict:
                        continue
                    keys = {string_value(e.key): e for e in d.elements if isinstance(e, cst.DictElement)}  # type: ignore[attr-defined]
                    if "pathspec" in keys and _PAYLOAD_KEYS & set(keys):
                        payloads.append((f, func, keys["pathspec"].value))
        if not payloads:
            return []
        helpers = self._helpers(files)
        tasks: list[Derivation] = []
        for value in model_of(project).option_values("--run-id", files):
            if value.expr is not None and value.func is not None:
                tasks.append((extension_of(value.path), _derive(value.expr, value.func, helpers)))
        written: frozenset | None = None
        out = []
        for f, func, value in payloads:
            t = _derive(value, func, helpers)
            problem = None
            if t.env and written is None:
                written = self._written_env(model_of(project), [g for g in files if any(e in g.source for e in t.env)])
            if t.env - (written or frozenset()):
                problem = ("read from %s, which nothing sets where `trigger` runs" % ", ".join(sorted(t.env - written)), None)
            else:
                for package, s in tasks:
                    if package != extension_of(f.path):
                        continue  # another extension linted in the same run
                    if s.env & t.env:
                        continue  # the same source, read on both sides
                    tk, sk = t.kind(), s.kind()
                    if tk and sk and tk != sk:
                        problem = (tk, sk)
                        break
                    if tk == sk and (t.slices or s.slices) and t.slices != s.slices:
                        problem = (f"{tk or 'a value'} {_slices(t.slices)}", f"{sk or 'a value'} {_slices(s.slices)}")
                        break
            if problem is not None:
                trigger, tasks_kind = problem
                message = (
                    self.message.format(trigger=trigger, tasks=tasks_kind)
                    if tasks_kind
                    else f"the run id of this `pathspec` is {trigger}: the client never finds the run"
                )
                out.append(Report(node=value, message=message, path=f.path))
        return out

    @staticmethod
    def _helpers(files) -> "_Helpers":
        return _Helpers(files)

    @staticmethod
    def _written_env(model, files) -> frozenset:
        """Environment variable names the project sets (dict keys, subscript stores, keywords,
        ``export NAME=`` in scripts)."""
        out = set()
        for f in files:
            for n in nodes_of(f):
                if type(n) is cst.DictElement:
                    k = string_value(n.key)  # type: ignore[attr-defined]
                    if k:
                        out.add(k)
                elif type(n) is cst.AssignTarget and type(n.target) is cst.Subscript:  # type: ignore[attr-defined]
                    sub = n.target.slice[0].slice  # type: ignore[attr-defined]
                    if isinstance(sub, cst.Index) and string_value(sub.value):
                        out.add(string_value(sub.value))
                elif type(n) is cst.Arg and n.keyword is not None:  # type: ignore[attr-defined]
                    out.add(n.keyword.value)  # type: ignore[attr-defined]
                elif type(n) is cst.Call and call_name(n) in ("setdefault", "putenv") and n.args:  # type: ignore[arg-type,attr-defined]
                    k = string_value(n.args[0].value)  # type: ignore[attr-defined]
                    if k:
                        out.add(k)
            for frag in model.written_in(f) if may_mention(f, ("=",)) else ():
                for word in frag.text.replace("export ", " ").split():
                    if "=" in word:
                        out.add(word.split("=", 1)[0])
        return frozenset(out)


def _derive(expr: cst.CSTNode, func: cst.FunctionDef, helpers: dict, depth: int = 2) -> Derivation:
    d = Derivation()
    slices: set = set()
    env: set = set()
    for n in expression_parts(expr, func):
        if type(n) is cst.Call:
            name = call_name(n)  # type: ignore[arg-type]
            if name in _FRESH:
                d.fresh = True
            elif name in _HASH or name == "hexdigest":
                d.hashed = True
            q = dotted(n.func) or ""  # type: ignore[attr-defined]
            if q in _ENV_READS and n.args:  # type: ignore[attr-defined]
                v = string_value(n.args[0].value)  # type: ignore[attr-defined]
                if v:
                    env.add(v)
            helper = helpers.get(name or "")
            if helper is not None and helper is not func and depth > 0:
                for r in walk(helper.body):
                    if type(r) is cst.Return and r.value is not None:  # type: ignore[attr-defined]
                        sub = _derive(r.value, helper, helpers, depth - 1)  # type: ignore[attr-defined]
                        d.fresh |= sub.fresh
                        d.hashed |= sub.hashed
                        slices |= sub.slices
                        env |= sub.env
        elif type(n) is cst.Subscript:
            value = dotted(n.value) or ""  # type: ignore[attr-defined]
            for el in n.slice:  # type: ignore[attr-defined]
                if isinstance(el.slice, cst.Slice) and "argv" not in value:
                    bounds = (_bound(el.slice.lower), _bound(el.slice.upper))
                    if "?" not in bounds:  # a truncation; `x[len(prefix):]` strips a known prefix
                        slices.add(bounds)
                elif isinstance(el.slice, cst.Index) and value in ("os.environ", "environ"):
                    v = string_value(el.slice.value)
                    if v:
                        env.add(v)
    d.slices = frozenset(slices)
    d.env = frozenset(env)
    return d


def _bound(e: cst.BaseExpression | None) -> str:
    if e is None:
        return ""
    if isinstance(e, cst.Integer):
        return e.value
    if isinstance(e, cst.UnaryOperation) and isinstance(e.expression, cst.Integer):
        return "-" + e.expression.value
    return "?"


def _slices(slices: frozenset) -> str:
    if not slices:
        return "in full"
    return "sliced " + ", ".join("[%s:%s]" % s for s in sorted(slices))
