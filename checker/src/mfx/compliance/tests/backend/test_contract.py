"""One contract run (flows/backend/contract_flow.py) inspected through the Metaflow client."""

from __future__ import annotations

import pytest

from mfx.compliance.expect import not_exercised, pitfall
from mfx.compliance.runspec import Spec
from mfx.compliance.tests.backend.runs import BackendRuns, RunResult, artifact, resource_merge, task

# One run read by every test that takes the `contract` fixture (each declares it). It carries a
# Config value that differs from the flow's default: only a correctly rebuilt inner command
# (util.dict_to_cli_options) brings it to the task (B5).
CONTRACT = Spec("contract_flow", "artifacts", "contract_flow", top_level={"config_value": [("cfg", {"greeting": "from-the-launcher"})]}, order=1)


@pytest.fixture  # per test: each user must declare the run (the shared result is cached)
def contract(bk: BackendRuns) -> RunResult:
    result = bk.shared(CONTRACT)
    assert result.status == "successful" and result.run is not None, bk.explain(
        result, "B5,B6,B7,B10,B11", "the contract flow failed on the backend",
        fix="run flows/backend/contract_flow.py with --with <backend> and read the first task error",
    )
    return result


@pytest.mark.capability("metadata")
@pytest.mark.mfx_run(CONTRACT)
def test_metadata_visible(contract: RunResult, bk: BackendRuns) -> None:
    run = contract.run
    assert run.successful and run.finished, pitfall(
        "B12", "the runtime exited 0 but the client sees successful=%s finished=%s" % (run.successful, run.finished),
        fix="sync_local_metadata_to_datastore in the remote task_finished and sync_local_metadata_from_datastore in the trampoline",
    )
    meta = task(run, "start").metadata_dict
    remote = [k for k in meta if k.startswith(bk.plugin + "-")]
    assert remote, pitfall(
        "B12", "metadata registered by the remote task_pre_step is missing (keys: %s)" % sorted(meta),
        fix="register the job's metadata in task_pre_step and sync it back",
    )
    assert str(meta.get("attempt")) == "0", pitfall("B12", "attempt metadata is %r, expected '0'" % meta.get("attempt"))


@pytest.mark.capability("env-vars")
@pytest.mark.mfx_run(CONTRACT)
def test_env_vars_in_task(contract: RunResult) -> None:
    env = artifact(contract.run, "start", "env")
    assert env["runtime_environment"] not in (None, "", "local"), pitfall(
        "B10", "METAFLOW_RUNTIME_ENVIRONMENT in the task is %r" % env["runtime_environment"],
        fix="set METAFLOW_RUNTIME_ENVIRONMENT=<backend> in the job env",
    )
    assert not env["has_sysroot_local"], pitfall(
        "B10", "METAFLOW_DATASTORE_SYSROOT_LOCAL reached the task", fix="never forward METAFLOW_DATASTORE_SYSROOT_LOCAL",
    )
    import os

    expected_user = os.environ.get("METAFLOW_USER")
    if expected_user:
        assert artifact(contract.run, "start", "username") == expected_user, pitfall(
            "B10", "current.username in the task is %r, launcher user %r" % (artifact(contract.run, "start", "username"), expected_user),
            fix="forward METAFLOW_USER",
        )
    assert artifact(contract.run, "join", "env_var") == "env-ok", pitfall(
        "B10", "@environment(vars=...) did not reach the task", fix="copy the environment decorator's vars into the job env",
    )


@pytest.mark.capability("artifacts")
@pytest.mark.mfx_run(CONTRACT)
def test_artifacts_round_trip(contract: RunResult) -> None:
    run = contract.run
    assert artifact(run, "join", "total") == 12, pitfall("B11", "artifacts did not round-trip through the datastore")
    assert artifact(run, "join", "greeting") == "from-the-launcher", pitfall(
        "B5", "the Config value did not reach the task", fix="rebuild the inner command with util.dict_to_cli_options(ctx.parent.parent.params)",
    )
    env = artifact(run, "start", "env")
    root = env.get("extracted_root")
    mf_file = artifact(run, "start", "metaflow_file")
    assert root and mf_file.startswith(root), pitfall(
        "B6", "the task imported metaflow from %s, not from the code package (%s)" % (mf_file, root),
        fix="download the package with environment.get_package_commands(url, ds_type, package_metadata)",
    )
    import metaflow

    assert artifact(run, "start", "metaflow_version") == metaflow.__version__, pitfall("B6", "the task runs another Metaflow version")


@pytest.mark.capability("foreach")
@pytest.mark.mfx_run(CONTRACT)
def test_foreach_and_join(contract: RunResult) -> None:
    fan = list(contract.run["fan"])
    assert len(fan) == 3 and len({t.id for t in fan}) == 3, pitfall("B7", "expected 3 distinct foreach tasks, got %s" % [t.id for t in fan])
    assert sorted(t.data.doubled for t in fan) == [2, 4, 6], pitfall("B25", "foreach inputs were mixed up")
    cwds = artifact(contract.run, "join", "fan_cwds")
    assert len(set(cwds)) == 3, pitfall("B7", "foreach tasks shared a working dir: %s" % cwds, fix="a fresh working dir per attempt")


@pytest.mark.capability("logs")
@pytest.mark.mfx_run(CONTRACT)
def test_stdout_exactly_once(contract: RunResult) -> None:
    for step, token in (("start", "mfx-token-start"), ("end", "mfx-token-end")):
        out = task(contract.run, step).stdout or ""
        assert out.count(token) == 1, pitfall(
            "B17", "%s: token found %d times in task.stdout (expected once):\n%s" % (step, out.count(token), out[-800:]),
            fix="capture with bash_capture_logs + save_logs and echo the datastore tail (not the raw job output)",
        )


@pytest.mark.capability("logs-live")
@pytest.mark.mfx_run(CONTRACT)
def test_logs_live(contract: RunResult) -> None:
    seen = artifact(contract.run, "live", "live_seen_after")
    if seen == -1.0:
        not_exercised("not an S3 datastore: the step cannot see its own log object while it runs, live log upload not checked")
    assert seen is not None, pitfall(
        "B17", "the step's output did not reach the datastore while the step ran (waited 90 s)",
        fix="start Sidecar('save_logs_periodically') in the remote task_pre_step",
    )


#: What the contract flow's `live` step asks for with Metaflow's own decorator: @resources(cpu=2, memory=1500).
REQUESTED = {"cpu": 2.0, "memory": 1500.0}


@pytest.mark.capability("resources")
@pytest.mark.mfx_run(CONTRACT)
def test_resources_merged(contract: RunResult, bk: BackendRuns) -> None:
    all_attrs = artifact(contract.run, "live", "compute_attrs")
    name = bk.decospec.split(":", 1)[0]
    attrs = all_attrs.get(name, all_attrs.get(bk.plugin))
    assert attrs is not None, pitfall("B3", "the task does not carry the @%s decorator (found %s)" % (name, sorted(all_attrs)))
    # @resources' names, unless the extension maps them to its decorator's own ([tool.mfx.compliance] resource_attributes)
    configured, merged, kept = resource_merge(attrs, bk.engine.config.resource_attributes, REQUESTED)
    assert not configured, pitfall(
        "B3", "resource_attributes names %s, but @%s has no such attribute (its attributes: %s)" % (configured, name, sorted(attrs)),
        fix="resource_attributes maps @resources names (cpu, memory) to attributes the decorator really has",
    )
    if not merged:
        not_exercised(
            "@%s has no attribute to merge @resources(cpu=2, memory=1500) into (its attributes: %s); if it names them "
            "differently, set resource_attributes = { cpu = \"...\", memory = \"...\" } in [tool.mfx.compliance] "
            "(what the job really got is the capability resources-granted)" % (name, ", ".join(sorted(attrs)) or "none")
        )
    assert not kept, pitfall(
        "B19", "@resources(cpu=2, memory=1500) but @%s kept %s" % (name, ", ".join("%s=%s" % kv for kv in kept.items())),
        fix="merge in step_init with compute_resource_attributes and write the result back to self.attributes",
    )


@pytest.mark.capability("resources-granted")
@pytest.mark.mfx_run(CONTRACT)
def test_resources_granted(contract: RunResult) -> None:
    granted = artifact(contract.run, "live", "granted")
    cpus = granted.get("cpus") or granted.get("affinity")
    assert cpus is not None and cpus >= 2, pitfall(
        "B19", "@resources(cpu=2) but the job got %s CPUs (%s)" % (cpus, granted),
        fix="merge @resources in step_init with compute_resource_attributes and pass it to the engine",
    )
    if granted.get("memory_mb") is not None:
        assert granted["memory_mb"] >= 1500, pitfall("B19", "@resources(memory=1500) but the job got %s MB" % granted["memory_mb"])


# Compute decorators Metaflow 2.19 treats as remote even without `supports_conda_environment`
# (plugins/pypi/conda_environment.py keeps this list for backward compatibility).
_LEGACY_REMOTE_DECORATORS = ("batch", "kubernetes", "nvidia", "snowpark", "slurm", "nvct", "skypilot_step")


@pytest.mark.capability("conda-platform")
@pytest.mark.mfx_run(CONTRACT)
def test_conda_target_platform(contract: RunResult, bk: BackendRuns) -> None:
    from metaflow.plugins import STEP_DECORATORS
    from metaflow.plugins.pypi.utils import conda_platform

    cls = next((d for d in STEP_DECORATORS if d.name == bk.plugin), None)
    assert cls is not None, pitfall("B2", "no step decorator named %r is registered" % bk.plugin)
    deco = cls()  # instantiated like Metaflow does for --with
    # the platform @conda / @pypi resolve packages for, decided exactly as Metaflow decides it
    if getattr(deco, "supports_conda_environment", False) or deco.name in _LEGACY_REMOTE_DECORATORS:
        resolved_for = getattr(deco, "target_platform", "linux-64")
    else:
        resolved_for = conda_platform()  # the submitter's own platform
    worker = artifact(contract.run, "start", "conda_platform")
    assert resolved_for == worker, pitfall(
        "B9", "@conda/@pypi environments would be resolved for %s but the task ran on a %s worker" % (resolved_for, worker),
        fix="set supports_conda_environment = True and target_platform to the workers' platform (a linux-* literal or a "
        "config value), never the submitter's platform",
    )


@pytest.mark.capability("logs-streamed")
def test_lines_reach_the_launcher_while_the_task_runs(bk: BackendRuns) -> None:
    import uuid

    from metaflow import S3
    from metaflow.metaflow_config import DATASTORE_SYSROOT_S3

    from mfx.compliance.flows.backend.stream_flow import ACK_WAIT

    if not DATASTORE_SYSROOT_S3:
        not_exercised("not an S3 datastore: the acknowledgement object cannot be written, streaming not checked")
    first, second = "mfx-stream-1", "mfx-stream-2"
    ack_url = "%s/mfx-compliance-acks/%s" % (DATASTORE_SYSROOT_S3.rstrip("/"), uuid.uuid4().hex)
    seen = {}

    def watch(output: str) -> None:
        if "first" not in seen and first in output:
            seen["first"] = output
            with S3() as s3:
                s3.put(ack_url, "seen")  # the step prints its second line only after this

    result = bk.run("stream_flow", ack_url=ack_url, watch=watch)
    assert result.status == "successful" and result.run is not None, pitfall(
        "B17", "stream_flow failed on the backend; launcher output:\n%s" % result.tail(60)
    )
    waited = artifact(result.run, "start", "ack_after")
    assert "first" in seen and waited is not None, pitfall(
        "B17", "the step's first line did not reach the launcher's output while the step ran (it waited %.0f s for it)%s"
        % (ACK_WAIT, "; it arrived only after the task ended" if first in result.output else ""),
        fix="echo the datastore tail (tail_logs) while the job runs and write each line to the runtime's pipe only "
        "once it has read the previous one: Metaflow's runtime shows one line per readable event",
    )
    assert second not in seen["first"], pitfall("B17", "the second line was shown before the first was acknowledged")
    out = result.stdout
    assert out.count(first) == 1 and out.count(second) == 1 and out.index(first) < out.index(second), pitfall(
        "B17", "the launcher's output must show each line once, in order:\n%s" % result.tail(30),
        fix="echo the datastore tail (not the engine's raw output), in the order the task wrote it",
    )
