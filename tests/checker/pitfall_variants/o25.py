"""O25: node-type dispatch written the ways compilers write it (issue 11, section 3)."""

from . import bad, good

CASES = [
    bad(
        "O25", "MFX219", "type read into a local from a dict node",
        {"orch/compile.py": '''
def compile_graph(graph):
    for node in graph["nodes"]:
        kind = node["type"]
        if kind == "foreach":  # <-
            emit_map(node)
        elif kind == "join":
            emit_join(node)
'''},
    ),
    bad(
        "O25", "MFX219", "node.get('type') stored then tested with in",
        {"orch/dag.py": '''
def build(nodes):
    out = []
    for n in nodes:
        t = n.get("type")
        if t in ("split", "foreach"):  # <-
            out.append(fan_out(n))
        else:
            out.append(task(n))
    return out
'''},
    ),
    bad(
        "O25", "MFX219", "match statement on the node type",
        {"orch/compiler.py": '''
def visit(step):
    match step.type:  # <-
        case "foreach":
            return "map"
        case "split" | "join":
            return "parallel"
        case _:
            return "task"
'''},
    ),
    bad(
        "O25", "MFX219", "dispatch table indexed by a local node type",
        {"orch/compiler.py": '''
HANDLERS = {
    "linear": lambda n: n,
    "foreach": lambda n: [n],
    "join": lambda n: (n,),
}

def compile_node(node_info):
    node_type = node_info["type"]
    return HANDLERS[node_type](node_info)  # <-
'''},
    ),
    bad(
        "O25", "MFX219", "annotated local, compared in reverse order",
        {"orch/workflow.py": '''
def lower(node) -> str:
    ntype: str = node.type
    if "foreach" == ntype:  # <-
        return "fanout"
    if "split" == ntype:
        return "branches"
    return "task"
'''},
    ),
    good(
        "O25", "MFX219", "local node type, split-switch rejected",
        {"orch/compile.py": '''
def compile_graph(graph):
    for node in graph["nodes"]:
        kind = node["type"]
        if kind == "split-switch":
            raise NotImplementedError("switch steps are not supported")
        if kind == "foreach":
            emit_map(node)
        elif kind == "join":
            emit_join(node)
'''},
    ),
    good(
        "O25", "MFX219", "'split'/'join' compared with a local that is not a node type",
        {"orch/util.py": '''
def parse(spec):
    mode = spec.mode
    if mode == "split":
        return spec.parts
    if mode == "join":
        return "".join(spec.parts)
    kind = spec["kind"]
    return kind in ("linear", "foreach")
'''},
    ),
    good(
        "O25", "MFX219", "dispatch table of unrelated keys indexed by a type",
        {"orch/fmt.py": '''
FORMATTERS = {"json": dumps, "yaml": dump}

def fmt(obj):
    t = obj["type"]
    if t == "split":
        return FORMATTERS["json"](obj)
    return FORMATTERS.get(t)
'''},
    ),
    good(
        "O25", "MFX219", "match on the node type with a switch case",
        {"orch/compiler.py": '''
def visit(step):
    match step.type:
        case "split-switch":
            return "choice"
        case "foreach":
            return "map"
        case "split" | "join":
            return "parallel"
'''},
    ),
]
