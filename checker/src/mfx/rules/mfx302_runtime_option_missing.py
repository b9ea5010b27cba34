"""MFX302: the trampoline ``step`` command does not accept every option the runtime passes (B4)."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from mfx.analysis.backend_base import find_nodes
from mfx.analysis.backend_model import BackendModel, ClickCommand
from mfx.analysis.backend_names import keyword, string_value
from mfx.analysis.backend_project import backend_clis, compute_decorators
from mfx.engine.context import ProjectContext
from mfx.rule import Applicability, Fix, Invalid, ProjectRule, Report, Valid

#: Options Metaflow's runtime may add to the task command that runtime_step_cli rewrites.
RUNTIME_OPTIONS = (
    "run-id",
    "task-id",
    "input-paths",
    "split-index",
    "clone-path",
    "clone-run-id",
    "tag",
    "namespace",
    "retry-count",
    "max-user-code-retries",
    "ubf-context",
)

_REG = 'TRAMPOLINE_CLIS_DESC = [("mybk", ".mybk_cli.cli")]\n'
_CLI_HEAD = """
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group()
def mybk():
    pass

"""
_ALL = """@click.option("--run-id")
@click.option("--task-id")
@click.option("--input-paths")
@click.option("--split-index")
@click.option("--clone-path")
@click.option("--clone-run-id")
@click.option("--tag", multiple=True, default=None)
@click.option("--namespace")
@click.option("--retry-count", default=0)
@click.option("--max-user-code-retries", default=0)
@click.option("--ubf-context", default=None)
"""
_DECO_NO_PARALLEL = """
from metaflow.decorators import StepDecorator

class MyBkDecorator(StepDecorator):
    name = "mybk"
    def step_init(self, flow, graph, step, decos, environment, flow_datastore, logger):
        if any(d.name == "parallel" for d in decos):
            raise Exception("@parallel is not supported by @mybk")
    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["mybk", "step"]
"""


class RuntimeOptionMissing(ProjectRule):
    """## What it does
    Checks that the trampoline ``step`` command of a backend CLI declares every option that
    Metaflow's runtime can pass to a task: ``--run-id --task-id --input-paths --split-index
    --clone-path --clone-run-id --tag (multiple) --namespace --retry-count
    --max-user-code-retries --ubf-context``, and ``--num-parallel`` unless the decorator rejects
    ``@parallel`` in ``step_init``.

    ## Why is this bad?
    ``runtime_step_cli`` only renames the command; the runtime still appends its own options.
    ``resume`` adds ``--clone-run-id`` to every re-run task, ``@parallel`` adds
    ``--num-parallel``, unbounded foreach adds ``--ubf-context``. A missing option is a click
    usage error ("No such option") at run time, so ``resume`` or ``@parallel`` fail only in
    production (pitfall B4; metaflow-gha lacks ``--clone-run-id``).

    ## Example
    ```python
    @mybk.command()
    @click.argument("step-name")
    @click.option("--run-id")
    @click.option("--task-id")
    def step(step_name, **kwargs): ...
    ```

    ## Use instead
    Declare every runtime option (see ``kubernetes_cli.py``), forwarding them with
    ``util.dict_to_cli_options(kwargs)``.

    ## Fix safety
    When the ``step`` function takes ``**kwargs``, the fix adds the missing ``@click.option``
    lines. It is unsafe: the new values reach ``kwargs`` and whatever the function does with
    them.

    ## Known problems
    A command declared with ``context_settings`` that ignores unknown options is not checked.
    """

    code = "MFX302"
    name = "runtime-option-missing"
    message = "trampoline `step` does not accept every runtime option"
    pitfalls = ("B4",)
    fix = Applicability.UNSAFE
    applies_to_core = True

    VALID = [
        Valid(
            {
                "ext/plugins/mfextinit_x.py": _REG,
                "ext/plugins/mybk_decorator.py": _DECO_NO_PARALLEL,
                "ext/plugins/mybk_cli.py": _CLI_HEAD
                + "@mybk.command()\n@click.argument(\"step-name\")\n"
                + _ALL
                + "def step(step_name, **kwargs):\n    pass\n",
            },
            note="@parallel rejected in step_init, so --num-parallel is not needed",
        ),
        Valid(
            {
                "ext/plugins/mfextinit_x.py": _REG,
                "ext/plugins/mybk_cli.py": _CLI_HEAD
                + "@mybk.command()\n@click.argument(\"step-name\")\n"
                + _ALL
                + "@click.option(\"--num-parallel\", type=int)\n"
                + "def step(step_name, num_parallel=None, **kwargs):\n    pass\n",
            },
        ),
    ]
    INVALID = [
        Invalid(
            {
                "ext/plugins/mfextinit_x.py": _REG,
                "ext/plugins/mybk_decorator.py": _DECO_NO_PARALLEL,
                "ext/plugins/mybk_cli.py": _CLI_HEAD
                + '@mybk.command()\n@click.argument("step-name")\n@click.option("--run-id")\n'
                + "def step(step_name, **kwargs):\n    pass\n",
            },
            count=1,
            fixed={
                "ext/plugins/mybk_cli.py": _CLI_HEAD
                + '@mybk.command()\n@click.option("--task-id")\n@click.option("--input-paths")\n'
                + '@click.option("--split-index")\n@click.option("--clone-path")\n'
                + '@click.option("--clone-run-id")\n@click.option("--tag", multiple=True, default=None)\n'
                + '@click.option("--namespace")\n@click.option("--retry-count")\n'
                + '@click.option("--max-user-code-retries")\n@click.option("--ubf-context")\n'
                + '@click.argument("step-name")\n@click.option("--run-id")\n'
                + "def step(step_name, **kwargs):\n    pass\n",
            },
        ),
        Invalid(
            {
                "ext/plugins/mfextinit_x.py": _REG,
                "ext/plugins/mybk_cli.py": _CLI_HEAD
                + "@mybk.command()\n@click.argument(\"step-name\")\n"
                + _ALL.replace('@click.option("--clone-run-id")\n', "").replace(
                    '"--tag", multiple=True, default=None', '"--tag"'
                )
                + "def step(step_name, run_id=None, **kwargs):\n    pass\n",
            },
            count=1,
            note="no --clone-run-id (gha), --tag not multiple, no --num-parallel and @parallel not rejected",
        ),
    ]

    def check(self, project: ProjectContext) -> Iterable[Report]:
        decos = compute_decorators(project)
        for cli in backend_clis(project):
            step = cli.step
            if step is None or self._ignores_unknown(step):
                continue
            options = step.options
            missing = [o for o in RUNTIME_OPTIONS if o not in options]
            group = cli.group.name if cli.group is not None else None
            rejects_parallel = any(
                self._rejects_parallel(d.methods.get("step_init"))
                for _, d in decos
                if d.command_group == group
            )
            if "num-parallel" not in options and not rejects_parallel:
                missing.append("num-parallel")
            problems = []
            if missing:
                problems.append("missing " + ", ".join(f"--{m}" for m in missing))
            tag = options.get("tag")
            if tag is not None and not self._is_multiple(tag.node):
                problems.append("--tag must be declared with multiple=True")
            if not problems:
                continue
            message = (
                f"trampoline `step` does not accept every option Metaflow's runtime passes ({'; '.join(problems)}): "
                "resume, @parallel or foreach then fail with a click usage error; declare them"
                + (" (or reject @parallel in step_init)" if "num-parallel" in missing else "")
            )
            yield Report(node=step.func.name, message=message, path=cli.file.path, fix=self._fix(cli.model, step, missing))

    @staticmethod
    def _ignores_unknown(step: ClickCommand) -> bool:
        deco = step.decorator.decorator
        if not isinstance(deco, cst.Call) or keyword(deco, "context_settings") is None:
            return False
        return any(
            string_value(s) == "ignore_unknown_options" or (isinstance(s, cst.Name) and s.value == "ignore_unknown_options")
            for s in find_nodes(deco, cst.CSTNode)
            if isinstance(s, (cst.SimpleString, cst.Name))
        )

    @staticmethod
    def _is_multiple(call: cst.Call) -> bool:
        kw = keyword(call, "multiple")
        return kw is not None and isinstance(kw.value, cst.Name) and kw.value.value == "True"

    @staticmethod
    def _rejects_parallel(func: cst.FunctionDef | None) -> bool:
        if func is None:
            return False
        for if_node in find_nodes(func.body, cst.If):
            mentions = any(string_value(s) == "parallel" for s in find_nodes(if_node.test, cst.SimpleString))
            if mentions and find_nodes(if_node.body, cst.Raise):
                return True
        return False

    @staticmethod
    def _fix(model: BackendModel, step: ClickCommand, missing: list[str]) -> Fix | None:
        if step.func.params.star_kwarg is None or not missing:
            return None
        click_local = next(
            (local for local, full in model.imports.names.items() if full == "click" or full.endswith("._vendor.click")),
            None,
        )
        if click_local is None:
            return None
        lines = []
        for m in missing:
            extra = ", multiple=True, default=None" if m == "tag" else (", type=int" if m == "num-parallel" else "")
            lines.append(f'@{click_local}.option("--{m}"{extra})')
        head = cst.Module(body=[]).code_for_node(step.decorator.decorator)
        return Fix(
            node=step.decorator,
            replacement="@" + head + "\n" + "\n".join(lines),
            applicability=Applicability.UNSAFE,
            title="Declare the missing runtime options",
        )
