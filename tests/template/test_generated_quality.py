"""Quality gates on every rendered answer combination (issue 5): what a reviewer of a generated
repository would check by hand.

- `ruff check` (with the generated pyproject's own configuration) and `mfx check` are clean;
- every docker-compose file is valid against the compose-spec JSON schema (validated statically:
  no Docker engine here) and every published port is bound to 127.0.0.1;
- no secrets or tokens: a scanner for key patterns, high-entropy strings and credential
  literals, with the dev placeholders that are allowed listed explicitly;
- CI workflows have least-privilege `permissions` and every action pinned to a commit SHA.

test_render_matrix.py checks the structure of the same renders (valid Python/TOML/YAML, no
unrendered Jinja, the package layout); this file checks their quality, and does not repeat those.
Each checker is also run on a bad example so a checker that finds nothing cannot pass silently.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import jsonschema
import pytest
import yaml
from support.generate import render_snapshot

HERE = Path(__file__).resolve().parent
COMPOSE_SCHEMA = HERE / "schemas" / "compose-spec.json"
BIN = Path(sys.executable).parent
KINDS_PRESETS = [("orchestrator", "blank"), ("orchestrator", "temporal"), ("orchestrator", "airflow"), ("backend", "blank"),
                 ("backend", "slurm")]
COMBOS = [
    (kind, preset, ci, devstack)
    for (kind, preset), ci, devstack in itertools.product(KINDS_PRESETS, [True, False], [True, False])
]


def combo_id(combo: Tuple[str, str, bool, bool]) -> str:
    kind, preset, ci, devstack = combo
    return f"{kind}-{preset}-{'ci' if ci else 'noci'}-{'dev' if devstack else 'nodev'}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Dict[str, Path]:
    """Every kind/preset x ci x devstack combination, rendered once for all the checks below."""
    base = tmp_path_factory.mktemp("quality")
    out = {}
    for combo in COMBOS:
        kind, preset, ci, devstack = combo
        out[combo_id(combo)] = render_snapshot(base / combo_id(combo), kind=kind, preset=preset, ci=ci, devstack=devstack)
    return out


def files(root: Path) -> Iterator[Path]:
    return (p for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts)


# -- linters --------------------------------------------------------------------------------------


def test_ruff_is_clean_on_every_combination(rendered):
    for name, root in rendered.items():
        result = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "."], cwd=root, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{name}:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"


def test_mfx_check_is_clean_on_every_combination(rendered, tmp_path):
    # One cache for all combinations: they share most files, so each file is linted once.
    cache = tmp_path / "mfx-cache"
    for name, root in rendered.items():
        result = subprocess.run([str(BIN / "mfx"), "check", "-j", "1", "--cache-dir", str(cache), "."], cwd=root, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{name}:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"


# -- docker-compose -------------------------------------------------------------------------------


def compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    # The vendored schema predates the compose-spec's top-level `name` (see schemas/README.md):
    # add it as the current specification defines it, everything else is used unchanged.
    schema = copy.deepcopy(schema)
    schema["properties"].setdefault("name", {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"})
    return jsonschema.Draft201909Validator(schema)


def test_vendored_schema_is_the_documented_file():
    import hashlib

    recorded = re.search(r"sha256\s+`([0-9a-f]{64})`", (HERE / "schemas" / "README.md").read_text())
    assert recorded and hashlib.sha256(COMPOSE_SCHEMA.read_bytes()).hexdigest() == recorded.group(1)


def compose_files(rendered: Dict[str, Path]) -> List[Tuple[str, Path]]:
    found = [(f"{name}/{p.relative_to(root)}", p) for name, root in rendered.items() for p in files(root)
             if re.fullmatch(r"(docker-)?compose(\..+)?\.ya?ml", p.name)]
    assert len(found) == sum(1 for c in COMBOS if c[3]), "every devstack renders one compose file"
    return found


def compose_errors(doc: object) -> List[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in compose_validator().iter_errors(doc)]


def unbound_ports(doc: dict) -> List[str]:
    """Published ports not bound to 127.0.0.1 (short or long syntax), and host networking."""
    bad = []
    for service_name, service in (doc.get("services") or {}).items():
        if service.get("network_mode") == "host":
            bad.append(f"{service_name}: network_mode host publishes every port on all interfaces")
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                if port.get("published") is not None and port.get("host_ip") != "127.0.0.1":
                    bad.append(f"{service_name}: {port}")
            elif not str(port).startswith("127.0.0.1:"):
                bad.append(f"{service_name}: {port}")
    return bad


def test_compose_files_are_valid_and_bound_to_localhost(rendered):
    for name, path in compose_files(rendered):
        doc = yaml.safe_load(path.read_text())
        assert not compose_errors(doc), f"{name}: {compose_errors(doc)}"
        assert not unbound_ports(doc), f"{name}: ports not bound to 127.0.0.1: {unbound_ports(doc)}"
        assert any(s.get("ports") for s in doc["services"].values()), f"{name} publishes no port at all"


def test_compose_checks_catch_bad_files():
    assert compose_errors({"services": {"db": {"image": "x", "ports": [{"target": "not-a-number"}]}}})
    assert compose_errors({"services": {"db": {"image": "x", "restart_policy": "always"}}})  # unknown key
    assert compose_errors({"name": "Bad Name!", "services": {}})
    assert unbound_ports({"services": {"db": {"ports": ["5432:5432", {"target": 80, "published": 8080}]}}}) == [
        "db: 5432:5432", "db: {'target': 80, 'published': 8080}"]
    assert unbound_ports({"services": {"db": {"ports": ["0.0.0.0:9000:9000"], "network_mode": "host"}}})


# -- secrets --------------------------------------------------------------------------------------

# Credential literals that are allowed, each a documented local-only placeholder.
ALLOWED_CREDENTIALS = {
    "testing",  # moto's documented fake AWS credentials (devstack services.json, flow tests)
    "key",  # a dummy AWS_ACCESS_KEY_ID in the backend's environment pass-through unit test
    "no",  # a dummy UNRELATED_SECRET in the same test (it must not be forwarded)
}
KEY_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "URL with credentials": re.compile(r"://[^/\s:@'\"]+:[^/\s@'\"]+@"),
}
# NAME = "value" / "NAME": "value" / NAME: value, where NAME says it holds a credential.
CREDENTIAL_ASSIGNMENT = re.compile(
    r"""(?ix)\b([A-Z0-9_]*(?:password|passwd|secret|token|api_?key|access_?key)[A-Z0-9_]*)["']?\s*[:=]\s*["']([^"'\s]+)["']"""
)
PINNED_ACTION_SHA = re.compile(r"uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40}\b")
CANDIDATE = re.compile(r"[A-Za-z0-9+/_=-]{24,}")


def entropy(text: str) -> float:
    counts = {c: text.count(c) for c in set(text)}
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def high_entropy_strings(text: str) -> List[str]:
    """Random-looking tokens (keys, tokens) that are not identifiers or paths; pinned action
    SHAs in `uses:` lines are the one kind of long hex string that belongs in a repository."""
    text = PINNED_ACTION_SHA.sub("", text)
    found = []
    for token in CANDIDATE.findall(text):
        is_hex = re.fullmatch(r"[0-9a-fA-F]+", token) is not None
        mixed = re.search(r"[a-z]", token) and re.search(r"[A-Z]", token) and re.search(r"[0-9]", token)
        if (is_hex and len(token) >= 32 and entropy(token) > 3.0) or (mixed and entropy(token) > 4.3):
            found.append(token)
    return found


def secret_findings(text: str) -> List[str]:
    found = [f"{label}: {m.group(0)[:24]}" for label, pattern in KEY_PATTERNS.items() for m in pattern.finditer(text)]
    found += [f"credential literal {m.group(1)}={m.group(2)!r}" for m in CREDENTIAL_ASSIGNMENT.finditer(text)
              if m.group(2) not in ALLOWED_CREDENTIALS and not m.group(2).startswith(("$", "{", "os.environ"))]
    found += [f"high-entropy string {t[:12]}..." for t in high_entropy_strings(text)]
    return found


def test_no_secrets_in_generated_files(rendered):
    problems = []
    for name, root in rendered.items():
        for path in files(root):
            for finding in secret_findings(path.read_text(errors="replace")):
                problems.append(f"{name}/{path.relative_to(root)}: {finding}")
    assert not problems, "\n".join(problems)


def test_the_secret_scanner_finds_secrets():
    samples = {
        'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"': "AWS access key id",
        "-----BEGIN RSA PRIVATE KEY-----": "private key",
        "token: ghp_" + "a1B2c3D4e5" * 4: "GitHub token",
        "s3://user:hunter2@bucket": "URL with credentials",
        '"DB_PASSWORD": "hunter2"': "credential literal",
        "api_key='s3cr3t-value'": "credential literal",
        'blob = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"': "high-entropy string",
    }
    for text, label in samples.items():
        assert any(f.startswith(label) for f in secret_findings(text)), (text, secret_findings(text))
    allowed = '"AWS_SECRET_ACCESS_KEY": "testing"\nuses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683'
    assert secret_findings(allowed) == []


# -- CI workflows ---------------------------------------------------------------------------------

READ_SCOPES = {"read", "none"}
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def workflow_problems(doc: dict) -> List[str]:
    problems = []
    top = doc.get("permissions")
    if not isinstance(top, dict):
        problems.append(f"top-level permissions must be a mapping of read scopes, got {top!r}")
    else:
        problems += [f"top-level permission {k}: {v}" for k, v in top.items() if v not in READ_SCOPES]
    for job_name, job in (doc.get("jobs") or {}).items():
        perms = job.get("permissions")
        if perms is not None and (not isinstance(perms, dict) or any(v not in READ_SCOPES for v in perms.values())):
            problems.append(f"job {job_name}: permissions {perms!r} are not read-only")
        uses = [job["uses"]] if "uses" in job else []
        uses += [step["uses"] for step in job.get("steps") or [] if "uses" in step]
        problems += [f"job {job_name}: {u} is not pinned to a commit SHA" for u in uses
                     if not (u.startswith("./") or PINNED.match(u))]
    return problems


def test_workflows_are_least_privilege_and_pinned(rendered):
    seen = 0
    for name, root in rendered.items():
        for path in sorted((root / ".github" / "workflows").glob("*.y*ml")):
            seen += 1
            doc = yaml.safe_load(path.read_text())
            assert not workflow_problems(doc), f"{name}/{path.name}: {workflow_problems(doc)}"
            assert any(step.get("uses") for job in doc["jobs"].values() for step in job.get("steps", [])), "no action used"
    assert seen >= sum(1 for c in COMBOS if c[2]), "every ci=true combination renders a workflow"


def test_workflow_checks_catch_bad_workflows():
    assert workflow_problems({"jobs": {}}) == ["top-level permissions must be a mapping of read scopes, got None"]
    assert workflow_problems({"permissions": "write-all", "jobs": {}})
    bad = {
        "permissions": {"contents": "write"},
        "jobs": {"a": {"permissions": {"id-token": "write"}, "steps": [{"uses": "actions/checkout@v4"}]}},
    }
    assert len(workflow_problems(bad)) == 3
