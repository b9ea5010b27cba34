"""The shared analyses behind the backend and security rules, on small real inputs."""

from __future__ import annotations

import libcst as cst
from mfx.analysis.backend_model import backend_model
from mfx.analysis.backend_names import ImportMap, walk
from mfx.analysis.security_taint import flows, is_secret_name
from mfx.engine.context import FileContext


def test_import_map_resolves_aliases_relative_and_vendored_imports():
    module = cst.parse_module(
        "import metaflow.decorators as d\n"
        "from ..aws import aws_utils\n"
        "from metaflow._vendor import click\n"
        "from .sibling import thing as other\n"
    )
    imports = ImportMap(module, package="metaflow.plugins.kubernetes")
    assert imports.resolve(cst.parse_expression("d.StepDecorator")) == "metaflow.decorators.StepDecorator"
    assert imports.resolve(cst.parse_expression("aws_utils.f")) == "metaflow.plugins.aws.aws_utils.f"
    assert imports.resolve(cst.parse_expression("click.option")) == "click.option"
    assert imports.resolve(cst.parse_expression("other")) == "metaflow.plugins.kubernetes.sibling.thing"


def test_walk_visits_code_not_formatting_and_prunes():
    module = cst.parse_module("def f(a):\n    def g():\n        return a\n    return g\n")
    names = [n.value for n in walk(module) if isinstance(n, cst.Name)]
    assert names == ["f", "a", "g", "a", "g"]
    outer = module.body[0]
    pruned = [n.value for n in walk(outer, lambda n: isinstance(n, cst.FunctionDef)) if isinstance(n, cst.Name)]
    assert pruned == ["f", "a", "g"]  # the nested def is yielded, not entered; "g" is the return


def test_backend_model_finds_decorator_cli_and_registration():
    module = cst.parse_module(
        "from metaflow.decorators import StepDecorator\n"
        "import click\n"
        'CLIS_DESC = [("mybk", ".cli.cli")]\n'
        "class Base(StepDecorator):\n"
        '    name = "base"\n'
        "class MyBk(Base):\n"
        '    name = "mybk"\n'
        '    defaults = {"cpu": None}\n'
        "    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):\n"
        '        cli_args.commands = ["mybk", "step"]\n'
        "@click.group()\n"
        "def cli():\n    pass\n"
        "@cli.group()\n"
        "def my_bk():\n    pass\n"
        "@my_bk.command()\n"
        '@click.option("--run-id", "run_id_value")\n'
        '@click.option("--flag/--no-flag")\n'
        "def step(**kwargs):\n    pass\n"
    )
    model = backend_model(FileContext("ext/plugins/mybk.py", module.code, module))
    assert [(d.class_name, d.is_compute_backend, d.command_group) for d in model.decorators] == [
        ("Base", False, None),
        ("MyBk", True, "mybk"),
    ]
    assert model.decorators[1].defaults_keys() is not None and set(model.decorators[1].defaults_keys()) == {"cpu"}
    assert model.commands["my_bk"].name == "my-bk"  # click's own naming
    assert set(model.commands["step"].options) == {"run-id", "run-id-value", "flag", "no-flag"}
    assert [(e.list_name, e.key, e.path) for e in model.descs] == [("CLIS_DESC", "mybk", ".cli.cli")]


def test_secret_names():
    for name in ("AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "METAFLOW_SERVICE_AUTH_KEY", "api_key"):
        assert is_secret_name(name), name
    for name in ("AWS_ACCESS_KEY_ID", "SLURM_SSH_KEY_FILE", "TOKEN_URL", "METAFLOW_USER"):
        assert not is_secret_name(name), name


def test_taint_follows_containers_helpers_and_loops_but_not_unknown_calls():
    module = cst.parse_module(
        "import json, os\n"
        'FORWARDED = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]\n'
        "def build_env():\n"
        "    env = {}\n"
        "    for var in FORWARDED:\n"
        "        env[var] = os.environ.get(var)\n"
        "    return env\n"
        "def dump(f):\n"
        "    json.dump({'env': build_env()}, f)\n"
        "def opaque(f, client):\n"
        "    job_id = client.submit(env=build_env())\n"
        "    f.write(job_id)\n"
    )
    imports = ImportMap(module)
    got = [(f.sink, f.label, f.callee) for f in flows(FileContext("ext/m.py", module.code, module), imports, "secret")]
    assert got == [("file", "AWS_SECRET_ACCESS_KEY", "json.dump")]
