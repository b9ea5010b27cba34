"""MFX107: the ``trigger`` command writes a deployer attribute payload without ``pathspec``."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from mfx.analysis.orchestrator_cli import commands_named
from mfx.analysis.orchestrator_command import assignments
from mfx.analysis.orchestrator_names import call_name, dotted, string_value, walk
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Report, Rule, Valid

_PAYLOAD_KEYS = {"metadata", "flow_name"}


class TriggerPayloadWithoutPathspec(Rule):
    """## What it does
    In the ``trigger`` command of an orchestrator CLI, flags the dict written with
    ``json.dump``/``json.dumps`` as the deployer attribute payload (a dict literal with a ``metadata``
    key, or one written to a file opened from ``deployer_attribute_file``) when
    it has no ``"pathspec"`` key.

    ## Why is this bad?
    ``TriggeredRun`` reads ``pathspec`` (``"<FlowName>/<run_id>"``) from that payload; without
    it ``triggered_run.run`` is None forever and every wait on the run times out (pitfall O2).
    The run id must be the one the tasks use.

    ## Example
    ```python
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": name, "metadata": obj.metadata.metadata_str()}, f)
    ```

    ## Use instead
    ```python
    with open(deployer_attribute_file, "w") as f:
        json.dump(
            {"name": name, "metadata": obj.metadata.metadata_str(),
             "pathspec": "/".join((obj.flow.name, run_id))},
            f,
        )
    ```

    ## Known problems
    Payloads built outside the ``trigger`` function, or with ``**`` unpacking, are not checked.
    """

    code = "MFX107"
    # Applicability pre-check (mfx.applicability), sound because it reports only on commands of an
    # orchestrator CLI, whose root group is `@<click>.group()` with `<click>` resolving to `click`
    # or `metaflow._vendor.click`: the identifier `click` is written in the file
    TRIGGERS = ("click",)
    name = "trigger-payload-without-pathspec"
    message = (
        'the trigger attribute payload has no "pathspec" key: add '
        '`"pathspec": "<flow name>/<run id>"` with the run id the tasks use'
    )
    pitfalls = ("O2",)

    _CLI = """
import json
from metaflow import parameters
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group()
def toy():
    pass

@toy.command()
def create():
    pass

@parameters.add_custom_parameters(deploy_mode=False)
@toy.command()
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_obj
def trigger(obj, deployer_attribute_file=None, **kwargs):
    run_id = "toy-" + start_engine_run(kwargs)
    client.post(json.dumps({"name": "engine payload"}))
"""
    VALID = [
        Valid(
            _CLI
            + """
    payload = {"name": "x", "metadata": obj.metadata.metadata_str()}
    payload["pathspec"] = "%s/%s" % (obj.flow.name, run_id)
    with open(deployer_attribute_file, "w") as f:
        json.dump(payload, f)
"""
        ),
        Valid(
            _CLI
            + """
    with open(deployer_attribute_file, "w") as f:
        f.write(json.dumps({"metadata": obj.metadata.metadata_str(), "pathspec": obj.flow.name + "/" + run_id}))
"""
        ),
    ]
    INVALID = [
        Invalid(
            _CLI
            + """
    # "pathspec": "..."  (a comment does not count)
    with open(deployer_attribute_file, "w") as f:
        json.dump({"name": "x", "metadata": obj.metadata.metadata_str()}, f)
""",
            count=1,
        ),
        Invalid(
            _CLI
            + """
    with open(deployer_attribute_file, "w") as fh:
        json.dump({"run_id": run_id}, fh)
""",
            count=1,
            note="written to the attribute file",
        ),
    ]

    def check(self, file: FileContext) -> Iterator[Report]:
        for func in commands_named(file.module, "trigger"):
            files = self._attribute_file_aliases(func)
            for call in walk(func.body):
                if not isinstance(call, cst.Call) or call_name(call) not in ("dump", "dumps"):
                    continue
                if not call.args:
                    continue
                to_attr_file = (
                    call_name(call) == "dump"
                    and len(call.args) > 1
                    and isinstance(call.args[1].value, cst.Name)
                    and call.args[1].value.value in files
                )
                for d in self._dicts(call.args[0].value, func):
                    keys, opaque = self._keys(d, call.args[0].value, func)
                    if opaque or "pathspec" in keys:
                        continue
                    if to_attr_file or keys & _PAYLOAD_KEYS:
                        yield self.report(d)

    @staticmethod
    def _attribute_file_aliases(func: cst.FunctionDef) -> set[str]:
        out = set()
        for w in walk(func.body):
            if isinstance(w, cst.With):
                for item in w.items:
                    call = item.item
                    if (
                        isinstance(call, cst.Call)
                        and call_name(call) == "open"
                        and call.args
                        and "attribute_file" in (dotted(call.args[0].value) or "")
                        and item.asname is not None
                        and isinstance(item.asname.name, cst.Name)
                    ):
                        out.add(item.asname.name.value)
        return out

    @staticmethod
    def _dicts(expr: cst.BaseExpression, func: cst.FunctionDef) -> list[cst.Dict]:
        if isinstance(expr, cst.Dict):
            return [expr]
        if isinstance(expr, cst.Name):
            return [v for v in assignments(func, expr.value) if isinstance(v, cst.Dict)]
        return []

    @staticmethod
    def _keys(d: cst.Dict, expr: cst.BaseExpression, func: cst.FunctionDef) -> tuple[set[str], bool]:
        keys: set[str] = set()
        opaque = False
        for el in d.elements:
            if isinstance(el, cst.DictElement):
                k = string_value(el.key)
                if k is None:
                    opaque = True
                else:
                    keys.add(k)
            else:
                opaque = True
        if isinstance(expr, cst.Name):
            for w in walk(func.body):
                if isinstance(w, cst.Assign):
                    for t in w.targets:
                        tgt = t.target
                        if isinstance(tgt, cst.Subscript) and dotted(tgt.value) == expr.value:
                            sub = tgt.slice[0].slice if tgt.slice else None
                            k = string_value(sub.value) if isinstance(sub, cst.Index) else None
                            if k is None:
                                opaque = True
                            else:
                                keys.add(k)
                elif isinstance(w, cst.Call) and isinstance(w.func, cst.Attribute):
                    if dotted(w.func.value) == expr.value and w.func.attr.value in ("update", "setdefault"):
                        opaque = True
        return keys, opaque
