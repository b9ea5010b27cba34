"""Regenerate examples/<name>/ from examples/answers/<name>.yml; `--check` reports drift.

Each example is exactly what `copier copy --defaults --data-file examples/answers/<name>.yml`
produces from this checkout, so a reader can browse a generated repository without running
copier, and a template change that is not regenerated here fails `--check` (and
tests/template/test_examples_drift.py).

Two things keep the committed output independent of the machine and of the commit:
- the template is rendered from a plain copy of copier.yml + template/ (no git): copier then
  records no `_commit`, which would otherwise change with every commit of this repository;
- the answers file's `_src_path` would be that temporary copy's absolute path; it is rewritten to
  SRC_PATH, the template's real location relative to the example (examples/<name> -> ../..).

Exit codes: 0 up to date (or regenerated), 1 drift found by --check, 2 bad input.
"""

from __future__ import annotations

import argparse
import fnmatch
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ANSWERS = EXAMPLES / "answers"
SRC_PATH = "../.."  # examples/<name> -> the template repository root
IGNORED = ("__pycache__", ".pytest_cache", ".mfx_cache", ".ruff_cache", ".venv", ".nox")


def snapshot_template(into: Path, root: Path = ROOT) -> Path:
    """A plain (non-git) copy of the template: copier.yml and template/."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "copier.yml", into / "copier.yml")
    shutil.copytree(root / "template", into / "template", ignore=shutil.ignore_patterns(*IGNORED, "*.pyc"))
    return into


def render_example(answers_file: Path, dest: Path, template: Path) -> Path:
    """Render one example into ``dest`` (which must not exist) and make its answers file portable."""
    import copier
    import yaml

    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    if not isinstance(answers, dict):
        raise ValueError(f"{answers_file}: expected a mapping of question: answer")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(str(template), str(dest), data=answers, defaults=True, unsafe=True, quiet=True)
    recorded = dest / ".copier-answers.yml"
    lines = recorded.read_text(encoding="utf-8").splitlines(keepends=True)
    recorded.write_text("".join(f"_src_path: {SRC_PATH}\n" if ln.startswith("_src_path:") else ln for ln in lines), encoding="utf-8")
    return dest


def user_owned_globs(root: Path = ROOT) -> List[str]:
    """copier.yml's `_skip_if_exists`: the files the generated repository's owner edits."""
    import yaml

    return list(yaml.safe_load((root / "copier.yml").read_text(encoding="utf-8")).get("_skip_if_exists") or [])


def template_owned(relpath: str, globs: Sequence[str]) -> bool:
    return not any(fnmatch.fnmatch(relpath, g) for g in globs)


def tree(root: Path) -> Dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part in IGNORED for part in p.relative_to(root).parts) and p.suffix != ".pyc"
    }


def differences(committed: Path, fresh: Path) -> List[str]:
    """`<path>: <what>` for every file that differs, is missing or is extra in ``committed``."""
    old, new = tree(committed), tree(fresh)
    out = [f"{p}: missing (a fresh copy has it)" for p in sorted(set(new) - set(old))]
    out += [f"{p}: extra (a fresh copy does not have it)" for p in sorted(set(old) - set(new))]
    out += [f"{p}: content differs" for p in sorted(set(old) & set(new)) if old[p] != new[p]]
    return out


def example_names() -> List[str]:
    return sorted(p.stem for p in ANSWERS.glob("*.yml"))


def regenerate(names: Sequence[str], check: bool) -> int:
    out, err = sys.stdout, sys.stderr
    drifted = 0
    with tempfile.TemporaryDirectory(prefix="mfx-examples-") as tmp:
        template = snapshot_template(Path(tmp) / "template-src")
        for name in names:
            fresh = render_example(ANSWERS / f"{name}.yml", Path(tmp) / "out" / name, template)
            target = EXAMPLES / name
            diffs = differences(target, fresh)
            if not diffs:
                out.write(f"examples/{name}: up to date\n")
                continue
            if check:
                drifted += 1
                err.write(f"examples/{name} differs from a fresh copy:\n" + "".join(f"  {d}\n" for d in diffs))
                continue
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(fresh, target)
            out.write(f"examples/{name}: regenerated ({len(diffs)} file(s) changed)\n")
    if drifted:
        err.write("refresh with: python tools/regenerate_examples.py\n")
    return 1 if drifted else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/regenerate_examples.py", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 and list the files that drifted; change nothing")
    parser.add_argument("names", nargs="*", metavar="NAME", help="examples to handle (default: every examples/answers/*.yml)")
    args = parser.parse_args(argv)
    known = example_names()
    unknown = sorted(set(args.names) - set(known))
    if unknown or not known:
        sys.stderr.write(f"no answers file for {', '.join(unknown) or 'any example'} in examples/answers/ (known: {', '.join(known)})\n")
        return 2
    try:
        return regenerate(args.names or known, args.check)
    except (ValueError, OSError) as exc:  # a bad answers file: one line, no traceback
        sys.stderr.write(f"regenerate_examples: {str(exc).splitlines()[0]}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
