"""Sessions of the template repository itself.

`nox -s tests` is what CI runs (see README and .ci/run). The generated repositories have their
own noxfile (template/noxfile.py.jinja) with lint / tests / compliance / devstack / update.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).resolve().parent
CHECKER = ROOT / "checker"
TEST_DEPS = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "copier==9.19.1",
    "metaflow==2.19.39",
    "hypothesis",
    "hypothesmith",
    "jsonschema",
    "pyyaml",
    "ruff",
    "uv",
    "nox",
    "omegaconf",  # Metaflow's test/ux (and its stand-in, tests/template/ux_standin) reads its config with it
]


def _install_checker(session: nox.Session) -> None:
    session.install("-e", f"{CHECKER}[compliance,template]", *TEST_DEPS)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Everything CI runs: checker, template render matrix, generated repos, engines end to end."""
    session.run("bash", str(ROOT / "tools" / "ensure_system_packages.sh"), external=True)
    _install_checker(session)
    # Generated repositories install mfx from this checkout.
    session.env["MFX_REQUIREMENT"] = f"{CHECKER}[compliance]"
    session.env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    # Both mutation checks run here; tests/compliance (the Slurm end-to-end run) is collected before
    # tests/mutations, so the backend mutation check reuses its per-test results as the baseline.
    # A private --basetemp: the compliance suite runs pytest inside these tests, and pytest deletes
    # all but the newest few default temp dirs, which would remove the generated repos in use.
    basetemp = tempfile.mkdtemp(prefix="mfx-tests-")
    # Extra arguments are added to the defaults: `nox -s tests -- -m "not slow"` runs the fast tests
    # alone (no engine, no generated repo's own sessions); a path among them replaces `tests`.
    paths = [a for a in session.posargs if not a.startswith("-") and (ROOT / a.split("::")[0]).exists()]
    args = [*(["tests"] if not paths else []), f"--basetemp={basetemp}", "-p", "no:cacheprovider", "-ra",
            "--durations=30", *session.posargs]
    session.run("pytest", *args)


@nox.session(python="3.11", default=False)
def mutations(session: nox.Session) -> None:
    """Mutation kill rate: each patch re-introduces one pitfall; its compliance test must fail."""
    session.run("bash", str(ROOT / "tools" / "ensure_system_packages.sh"), external=True)
    _install_checker(session)
    session.env["MFX_REQUIREMENT"] = f"{CHECKER}[compliance]"
    basetemp = tempfile.mkdtemp(prefix="mfx-mutations-")
    # the Airflow check lives next to the Airflow devstack fixture it shares (tests/presets/airflow/conftest.py)
    session.run("pytest", "tests/mutations", "tests/presets/airflow/test_airflow_mutations.py", f"--basetemp={basetemp}", "-p", "no:cacheprovider",
                "-ra", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff over this repository's Python, and mfx's own docs drift check."""
    session.install("ruff", "-e", f"{CHECKER}")
    session.run("ruff", "check", "checker/src", "tests", "tools", "noxfile.py", "benchmarks", "migrations")
    session.run("mfx", "rule", "--check-docs", "docs/rules")
    session.run("mfx", "rule", "--check-table", "README.md")
    session.run("mfx", "rule", "--check-table", "checker/README.md", "--link-prefix", "../docs/rules/")
    session.run("python", "tools/capabilities_doc.py", "--check")
    session.run("python", "tools/pitfalls_doc.py", "--check")


@nox.session(python="3.11", default=False)
def docs(session: nox.Session) -> None:
    """Regenerate the generated docs and examples (rule pages, README rule table, contract,
    capability matrix, pitfall catalogue, init's devstack copies, examples/)."""
    session.install("-e", f"{CHECKER}[template]")
    session.run("mfx", "rule", "--write-docs", "docs/rules")
    session.run("mfx", "rule", "--update-table", "README.md")
    session.run("mfx", "rule", "--update-table", "checker/README.md", "--link-prefix", "../docs/rules/")
    session.run("python", "tools/contract_doc.py")
    session.run("python", "tools/capabilities_doc.py")
    session.run("python", "-m", "mfx.compliance.docs", "docs/compliance.md")
    session.run("python", "tools/init_data.py")
    session.run("python", "tools/pitfalls_doc.py")
    session.run("python", "tools/regenerate_examples.py")


@nox.session(python="3.11", default=False)
def third_party(session: nox.Session) -> None:
    """mfx compliance on published third-party orchestrators (metaflow-prefect, metaflow-dagster) from
    PyPI; records docs/third-party/results.json and regenerates docs/third-party-results.md. Needs
    PyPI and takes tens of minutes, so it is not part of `tests` (tests/compliance/test_third_party_results.py
    checks the document and the verdicts offline). `nox -s third_party -- --only dagster`."""
    session.install("uv")
    session.run("python", "tools/third_party_compliance.py", "run", *session.posargs)


@nox.session(python="3.11", default=False)
def bench(session: nox.Session) -> None:
    """Speed and size targets: lint engine vs libcst parse and Fixit; compliance wall time; LOC."""
    _install_checker(session)
    session.install("fixit==2.2.1")
    session.env["MFX_REQUIREMENT"] = f"{CHECKER}[compliance]"
    out = ROOT / "reports" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    for script in sorted((ROOT / "benchmarks").glob("*/bench*.py")):
        session.run("python", str(script), "--out", str(out), *session.posargs)
