"""``mfx new``: generate an extension with copier, without tracebacks on bad answers.

``copier copy`` lets a question's validator error (and an invalid choice) escape as a Python
traceback, because its CLI only catches its own ``UserMessageError``. ``mfx new`` runs the same
copy through ``copier.run_copy`` and reports every bad answer as one line on stderr with exit
code 2. Nothing is written then: copier validates all answers before it renders, ``mfx new``
refuses a non-empty DEST, and a DEST it created is removed if anything fails later.

copier is an optional dependency (``pip install 'mfx[template]'``): the lint rules and the
compliance suite do not need it.
"""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

from mfx.errors import UsageError

# Answers copier parses as booleans; anything else would silently become True.
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_INSTALL_HINT = "mfx new needs copier: pip install 'mfx[template]' (or pip install 'copier>=9.6')"


def add_parser(sub) -> None:
    """Register ``mfx new`` on the CLI's subparsers."""
    p = sub.add_parser(
        "new",
        help="generate a Metaflow extension from the template (copier copy, no tracebacks)",
        description="Generate a Metaflow extension repository with copier. Bad answers are reported "
        "in one line (exit 2) and nothing is written.",
    )
    p.add_argument("dest", metavar="DEST", help="directory to create (must not exist or be empty)")
    p.add_argument("--template", metavar="SRC", help="template source: a path or git URL (default: the nearest "
                   "directory above the current one holding copier.yml with `_subdirectory: template`)")
    p.add_argument("--data", action="append", default=[], metavar="KEY=VALUE", help="an answer (repeatable)")
    p.add_argument("--data-file", metavar="FILE", help="answers from a YAML file (--data wins)")
    p.add_argument("--defaults", action="store_true", help="use the default of every question not answered")
    p.add_argument("--vcs-ref", metavar="REF", help="git ref of the template to use (default: its latest tag, else HEAD)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not list the files written")


def run_new(args) -> int:
    try:
        import copier
        import yaml
    except ImportError:
        raise UsageError(_INSTALL_HINT) from None
    template = args.template or str(find_template(Path.cwd()))
    answers = _load_data_file(args.data_file, yaml) if args.data_file else {}
    answers.update(_parse_data(args.data))
    questions = _questions(template, yaml)
    if questions is not None:
        _check_answers(answers, questions)
    dest = Path(args.dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} already exists and is not an empty directory; mfx new only creates new repositories")
    created = not dest.exists()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. DirtyLocalWarning: one line per problem only
            copier.run_copy(
                template,
                str(dest),
                data=answers,
                defaults=args.defaults,
                unsafe=True,
                vcs_ref=args.vcs_ref,
                quiet=args.quiet,
            )
    except ValueError as exc:  # a validator's message or an invalid choice
        _discard(dest, created)
        raise UsageError(f"{_answer_message(str(exc))}; nothing was written") from None
    except KeyboardInterrupt:  # copier cleans up after an Exception only
        _discard(dest, created)
        raise
    except Exception as exc:
        _discard(dest, created)
        if type(exc).__module__.startswith("copier"):  # UserMessageError and friends: already one clear line
            raise UsageError(f"{exc}; nothing was written") from None
        if type(exc).__module__.startswith("jinja2"):  # a bug in the template, not in the answers
            raise UsageError(f"the template failed to render ({type(exc).__name__}: {exc}); nothing was written") from None
        raise
    return 0


def find_template(start: Path) -> Path:
    """The nearest directory at or above ``start`` whose copier.yml renders from ``template/``."""
    import yaml

    for directory in (start, *start.parents):
        config = directory / "copier.yml"
        if not config.is_file():
            continue
        try:
            data = yaml.safe_load(config.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("_subdirectory") == "template":
            return directory
    raise UsageError(
        "no template found: no directory above the current one holds a copier.yml with "
        "`_subdirectory: template`; pass --template PATH_OR_URL"
    )


def _parse_data(pairs: List[str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--data {pair!r}: expected KEY=VALUE, e.g. --data engine_name=my-scheduler")
        out[key.strip()] = value
    return out


def _load_data_file(path: str, yaml: Any) -> Dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--data-file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"--data-file {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"--data-file {path}: expected a mapping of question: answer")
    # An answers file written by copier also carries _src_path/_commit: those are not answers.
    return {str(k): v for k, v in data.items() if not str(k).startswith("_")}


def _questions(template: str, yaml: Any) -> Optional[Dict[str, Dict[str, Any]]]:
    """The questions of a local template (None for a remote one: copier checks those alone)."""
    config = Path(template) / "copier.yml"
    if not config.is_file():
        return None
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{config}: cannot read the template's questions ({exc})") from None
    if not isinstance(data, dict):
        return None
    return {k: v if isinstance(v, dict) else {} for k, v in data.items() if not k.startswith("_")}


def _check_answers(answers: Dict[str, Any], questions: Dict[str, Dict[str, Any]]) -> None:
    """What copier would accept silently: unknown keys, computed values, non-boolean booleans."""
    asked = sorted(k for k, q in questions.items() if q.get("when") is not False)
    for key, value in answers.items():
        if key not in questions:
            raise UsageError(f"unknown question {key!r}; the questions are: {', '.join(asked)}")
        if questions[key].get("when") is False:
            raise UsageError(f"{key!r} is computed from the other answers and cannot be set; the questions are: {', '.join(asked)}")
        if questions[key].get("type", "str") == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
            raise UsageError(f"invalid answer for {key!r}: {value!r} was read as a number; quote it in the answers file ({key}: \"{value}\")")
        if questions[key].get("type") == "bool" and not isinstance(value, bool):
            text = str(value).strip().lower()
            if text not in _TRUE | _FALSE:
                raise UsageError(f"invalid answer for {key!r}: {value!r} is not a boolean; use --data {key}=true or {key}=false")
            answers[key] = text in _TRUE


def _answer_message(message: str) -> str:
    """copier's ValueError text, with the fix for an invalid choice spelled out."""
    message = message.strip().splitlines()[0] if message.strip() else "invalid answer"
    if message.startswith("Invalid choice for '"):
        key = message.split("'")[1]
        return f"{message}: pass one of them, e.g. --data {key}=VALUE"
    return message


def _discard(dest: Path, created: bool) -> None:
    """Leave no trace: remove DEST if this run created it (copier usually did already), or empty
    it again if it was an empty directory before (run_new refuses a non-empty one)."""
    if created and dest.exists():
        shutil.rmtree(dest, ignore_errors=True)
    elif not created and dest.is_dir():
        for child in dest.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink()


if __name__ == "__main__":  # pragma: no cover
    from mfx.cli import main

    sys.exit(main(["new", *sys.argv[1:]]))
