"""MFX404: a credential is written into the extension's source as a string literal."""

from __future__ import annotations

import re

import libcst as cst

from mfx.analysis.backend_base import find_nodes
from mfx.analysis.backend_names import string_value
from mfx.analysis.security_taint import SECRET_NAME_WORDS, is_secret_name
from mfx.engine.context import FileContext
from mfx.rule import Invalid, Rule, Valid

AWS_KEY_ID = re.compile(r"^(AKIA|ASIA)[0-9A-Z]{16}$")
BEARER = re.compile(r"^Bearer\s+[A-Za-z0-9\-._~+/]{16,}=*$")
PRIVATE_KEY = re.compile(r"-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")
#: Text each pattern above needs; checked on the raw literal before evaluating it (literal_eval
#: is the costly part of this rule).
_LITERAL_MARKERS = ("AKIA", "ASIA", "Bearer", "PRIVATE KEY")
_PLACEHOLDER = re.compile(
    r"(example|changeme|change_me|dummy|placeholder|your[_-]|xxx|\*\*\*|fake|test|sample|redacted|<|>|\$\{|\{\{)",
    re.IGNORECASE,
)
_VAR_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")
#: Characters of API keys, tokens and base64 secrets (no spaces, brackets, regex syntax).
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-.~:]+$")


def looks_like_secret_value(value: str) -> bool:
    """A literal that could be a real credential: at least 12 characters of a token alphabet with
    both letters and digits; not a placeholder, a variable name, a message, a URL or a path."""
    if len(value) < 12 or not _TOKEN_CHARS.match(value):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    if _PLACEHOLDER.search(value) or _VAR_NAME.match(value):
        return False
    if "://" in value or value.startswith(("/", "~", "./", "$")):
        return False
    return True


class HardcodedCredential(Rule):
    """## What it does
    Flags credential literals in extension source: AWS access key ids (``AKIA…``), bearer tokens
    (``"Bearer eyJ…"``), private key blocks, and non-placeholder string literals bound to
    credential-like names (``aws_secret_access_key="…"``, ``TOKEN = "…"``, ``{"password": "…"}``).
    Comments, docstrings, placeholders (``"<token>"``, ``"changeme"``, ``"${TOKEN}"``) and names of
    environment variables (``TOKEN_VAR = "GITHUB_TOKEN"``) are not flagged; test files are
    skipped.

    ## Why is this bad?
    A credential in source is shipped in the wheel, in Metaflow's code package (every task of
    every flow uploads the installed extensions to the datastore) and in git history. It cannot
    be rotated without a release.

    ## Example
    ```python
    session = boto3.Session(aws_access_key_id="AKIAZ3MEXAMPLEKEYID7", aws_secret_access_key="wJalr...")
    ```

    ## Use instead
    ```python
    session = boto3.Session()  # credentials from the environment, a profile or an IAM role
    ```
    """

    code = "MFX404"
    # Applicability pre-check (mfx.applicability), sound because a finding is either a literal
    # matching a pattern that needs one of _LITERAL_MARKERS, or a value bound to a name matching
    # SECRET_NAME (case-insensitive, as the pre-checks are): one of its alternatives is written in
    # the file (names from string keys: escapes and concatenation are covered by the engine)
    TRIGGERS = (*_LITERAL_MARKERS, *SECRET_NAME_WORDS)
    name = "hardcoded-credential"
    message = "credential literal in source: read it from the environment or a secrets manager at run time"
    applies_to_core = True

    VALID = [
        Valid(
            '''
import os

TOKEN_ENV = "GITHUB_TOKEN"
TOKEN_HELP = "Invalid token provided"
TOKEN_STORAGE_ROOT = "mf.airflow"
RELOAD_POLICY_TOKEN = "[METAFLOW_RELOAD_TOKEN]"
secret_name_pattern = r"^[a-zA-Z][a-zA-Z0-9-]{0,126}$"
API_KEY_PLACEHOLDER = "<your-api-key>"
PASSWORD = os.environ.get("DB_PASSWORD", "")

def session(boto3):
    """Use aws_secret_access_key="AKIAIOSFODNN7EXAMPLE" style keys only in docs."""
    # aws_secret_access_key = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY"
    return boto3.Session(aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], password="changeme")
'''
        ),
    ]
    INVALID = [
        Invalid(
            """
import boto3

AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQWERTYKEY"
HEADERS = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9abcdefghijkl"}

def session():
    return boto3.Session(aws_access_key_id="AKIAZ3MQWERTYUIOP7AB", aws_secret_access_key="Zm9vYmFyYmF6cXV4cXV1eA")
""",
            count=4,
        ),
    ]

    def check(self, file: FileContext) -> None:
        if file.is_test:
            return
        docstrings = _docstrings(file.module)
        reported: set[int] = set()

        def report(n: cst.CSTNode, why: str) -> None:
            if id(n) not in reported:
                reported.add(id(n))
                self.report(n, f"{why}: read it from the environment or a secrets manager at run time")

        for s in find_nodes(file.module, cst.SimpleString):
            if id(s) in docstrings:
                continue
            raw = s.value
            if "\\" not in raw and not any(marker in raw for marker in _LITERAL_MARKERS):
                continue  # without escapes the value is the raw text: no pattern below can match
            value = string_value(s)
            if value is None:
                continue
            if AWS_KEY_ID.match(value) and "EXAMPLE" not in value:
                report(s, "AWS access key id literal in source")
            elif BEARER.match(value):
                report(s, "bearer token literal in source")
            elif PRIVATE_KEY.search(value):
                report(s, "private key literal in source")
        for a in find_nodes(file.module, cst.Assign):
            for t in a.targets:
                name = _target_name(t.target)
                if name and is_secret_name(name):
                    self._check_value(a.value, name, report)
        for a in find_nodes(file.module, cst.AnnAssign):
            name = _target_name(a.target)
            if name and a.value is not None and is_secret_name(name):
                self._check_value(a.value, name, report)
        for arg in find_nodes(file.module, cst.Arg):
            if arg.keyword is not None and is_secret_name(arg.keyword.value):
                self._check_value(arg.value, arg.keyword.value, report)
        for el in find_nodes(file.module, cst.DictElement):
            key = string_value(el.key)
            if key and is_secret_name(key):
                self._check_value(el.value, key, report)

    @staticmethod
    def _check_value(value: cst.BaseExpression, name: str, report) -> None:
        literal = string_value(value)
        if literal is not None and looks_like_secret_value(literal):
            report(value, f"`{name}` is bound to a credential literal")


def _target_name(target: cst.BaseExpression) -> str | None:
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value
    if isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
        return string_value(target.slice[0].slice.value)
    return None


def _docstrings(module: cst.Module) -> set[int]:
    out: set[int] = set()
    for node in [module] + find_nodes(module, cst.FunctionDef) + find_nodes(module, cst.ClassDef):
        body = node.body if isinstance(node, cst.Module) else getattr(node.body, "body", ())
        if body and isinstance(body[0], cst.SimpleStatementLine) and body[0].body and isinstance(body[0].body[0], cst.Expr):
            for s in find_nodes(body[0].body[0], cst.SimpleString):
                out.add(id(s))
    return out
