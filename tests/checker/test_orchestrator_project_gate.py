"""The orchestrator's project rules (task commands missing --branch, METAFLOW_OWNER, init, --with
...) do not judge a compute backend: Metaflow's runtime builds a backend's tasks, and a ``step``
command the backend builds itself is the backend rules' subject (MFX304). A project that is
both (it also has a Deployer) is still checked."""

from __future__ import annotations

from pathlib import Path

from mfx.config import FileConfig, build_settings
from mfx.engine.lint import lint_texts

BACKEND = '''
from metaflow.decorators import StepDecorator


class PodDecorator(StepDecorator):
    name = "pod"

    def runtime_step_cli(self, cli_args, retry_count, max_user_code_retries, ubf_context):
        cli_args.commands = ["pod", "step"]
        cli_args.command_args.append(self.package_url)
'''

INNER_COMMAND = '''
def inner_step(python, flow_file, step_name, run_id, task_id, attempt):
    return [python, flow_file, "step", step_name, "--run-id", run_id, "--task-id", task_id,
            "--retry-count", str(attempt)]
'''

DEPLOYER = '''
from metaflow.runner.deployer_impl import DeployerImpl


class PodDeployer(DeployerImpl):
    TYPE = "pod"
'''

RULES = ["MFX205", "MFX207", "MFX213", "MFX215"]


def codes(texts: dict[str, str]) -> list[str]:
    settings = build_settings(FileConfig(root=Path(".")), select=RULES)
    return sorted({d.code for d in lint_texts(texts, settings)})


def test_a_compute_backend_building_its_own_step_command_is_not_judged_as_an_orchestrator() -> None:
    assert codes({"pod/decorator.py": BACKEND, "pod/runner.py": INNER_COMMAND}) == []


def test_the_same_command_in_an_orchestrator_is_judged() -> None:
    assert codes({"pod/runner.py": INNER_COMMAND}) == RULES
    assert codes({"pod/decorator.py": BACKEND, "pod/runner.py": INNER_COMMAND, "pod/deployer.py": DEPLOYER}) == RULES
