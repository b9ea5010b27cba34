"""MFX025: an extension's pyproject.toml builds a wheel without ``top_level.txt`` (pitfall O30)."""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterable, Iterator

from mfx.projectfiles.base import FileReport, ProjectFile, ProjectFileRule
from mfx.rule import Invalid, Valid

EXT = "metaflow_extensions"

#: Build backends whose wheels have no ``top_level.txt`` (checked by building a wheel of a
#: ``metaflow_extensions`` package with each: hatchling 1.33.0, flit-core 4.2.0, poetry-core 2.5.0,
#: pdm-backend 2.5.0, uv_build 0.13.9; setuptools 84.2.1 writes the file). docs/lint/project-files.md
NO_TOP_LEVEL = {
    "hatchling.build": "hatchling",
    "flit_core.buildapi": "flit-core",
    "poetry.core.masonry.api": "poetry-core",
    "pdm.backend": "pdm-backend",
    "uv_build": "uv_build",
}
SETUPTOOLS = ("setuptools.build_meta", "setuptools.build_meta:__legacy__")

#: The tables in which each backend says which packages it ships.
_BUILD_TABLES = (
    ("tool", "hatch", "build"),
    ("tool", "flit", "module"),
    ("tool", "poetry", "packages"),
    ("tool", "pdm", "build"),
    ("tool", "uv", "build-backend"),
    ("tool", "setuptools"),
)
#: Names a package pattern must match for setuptools to ship the extension.
_SAMPLE_PACKAGES = (EXT, f"{EXT}.org", f"{EXT}.org.plugins")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _mentions_ext(value: Any) -> bool:
    if isinstance(value, str):
        return EXT in value
    if isinstance(value, dict):
        return any(_mentions_ext(k) or _mentions_ext(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions_ext(v) for v in value)
    return False


def _table(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class ExtensionWheelWithoutTopLevel(ProjectFileRule):
    """## What it does
    Checks the ``pyproject.toml`` of a distribution that ships ``metaflow_extensions`` (the
    directory is next to it or under ``src/``, or its build configuration names it): the wheel
    it builds must contain ``top_level.txt`` listing ``metaflow_extensions``. It reports

    * a build backend that never writes that file: hatchling, flit-core, poetry-core,
      pdm-backend and uv_build, unless the file is shipped explicitly (hatchling:
      ``force-include`` to ``<name>-<version>.dist-info/top_level.txt`` or a custom build hook
      that writes it; pdm-backend: a build hook script that writes it);
    * hatchling's ``extra-metadata`` used for it: that puts the file in
      ``.dist-info/extra_metadata/``, where nobody looks;
    * a setuptools configuration that leaves ``metaflow_extensions`` out of the packages (then
      ``top_level.txt`` is empty and the extension's files are not in the wheel):
      ``packages.find`` with ``namespaces = false`` (the namespace package has no
      ``__init__.py``), an ``include`` / ``exclude`` / ``where`` that misses it, or an explicit
      ``packages`` / ``py-modules`` list without it.

    ## Why is this bad?
    Metaflow discovers installed extensions by reading each distribution's ``top_level.txt``
    (``metaflow/extension_support/__init__.py``, ``dist.read_text("top_level.txt")``). A wheel
    without it is still found through the namespace path while it is the only extension in
    ``site-packages``; once any extension that has the file is installed next to it, that shared
    ``metaflow_extensions`` directory is claimed by the other distribution and this extension
    silently disappears: no ``Deployer(...).<type>``, no CLI, no decorator (pitfall O30).

    ## Example
    ```toml
    [build-system]
    requires = ["hatchling"]
    build-backend = "hatchling.build"

    [tool.hatch.build.targets.wheel]
    packages = ["metaflow_extensions"]
    ```

    ## Use instead
    ```toml
    [build-system]
    requires = ["setuptools>=77"]
    build-backend = "setuptools.build_meta"

    [tool.setuptools.packages.find]
    include = ["metaflow_extensions*"]
    namespaces = true
    ```
    or, keeping hatchling, ship a ``top_level.txt`` file containing ``metaflow_extensions`` (the
    directory name is the wheel's: normalized project name and version):
    ```toml
    [tool.hatch.build.targets.wheel.force-include]
    "top_level.txt" = "metaflow_acme-0.1.0.dist-info/top_level.txt"
    ```
    """

    code = "MFX025"
    name = "extension-wheel-without-top-level"
    message = (
        "the wheel has no top_level.txt listing metaflow_extensions, so Metaflow drops this extension "
        "once another extension is installed next to it: build with setuptools.build_meta or ship the file"
    )
    pitfalls = ("O30",)
    applies_to_core = False
    FILES = ("pyproject.toml",)

    _EXT_FILE = "metaflow_extensions/acme/plugins/mfextinit_acme.py"
    VALID = [
        Valid(
            {
                "pyproject.toml": """
                [build-system]
                requires = ["setuptools>=77"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "metaflow-acme"
                version = "0.1.0"

                [tool.setuptools.packages.find]
                include = ["metaflow_extensions*"]
                namespaces = true
                """,
                _EXT_FILE: "CLIS_DESC = []\n",
            },
            note="setuptools finds the namespace package: top_level.txt lists it",
        ),
        Valid(
            {
                "pyproject.toml": """
                [build-system]
                requires = ["hatchling"]
                build-backend = "hatchling.build"

                [project]
                name = "some-library"
                version = "1.0"
                """,
                "some_library/__init__.py": "",
            },
            note="not a Metaflow extension",
        ),
        Valid(
            {
                "pyproject.toml": """
                [build-system]
                requires = ["hatchling"]
                build-backend = "hatchling.build"

                [project]
                name = "metaflow-acme"
                version = "0.1.0"

                [tool.hatch.build.targets.wheel]
                packages = ["metaflow_extensions"]

                [tool.hatch.build.targets.wheel.force-include]
                "top_level.txt" = "metaflow_acme-0.1.0.dist-info/top_level.txt"
                """,
            },
            note="hatchling with the file force-included into the .dist-info",
        ),
        Valid(
            {
                "pyproject.toml": """
                [project]
                name = "metaflow-acme"
                version = "0.1.0"
                """,
                _EXT_FILE: "CLIS_DESC = []\n",
            },
            note="no [build-system]: pip and build use setuptools",
        ),
    ]
    INVALID = [
        Invalid(
            {
                "pyproject.toml": """
                [build-system]
                requires = ["hatchling"]
                build-backend = "hatchling.build"

                [project]
                name = "metaflow-acme"
                version = "0.1.0"

                [tool.hatch.build.targets.wheel]
                packages = ["metaflow_extensions"]
                """,
            },
            count=1,
            path="pyproject.toml",
            line=3,
            column=1,
            message="hatchling",
        ),
        Invalid(
            {
                "pyproject.toml": """
                [build-system]
                requires = ["flit_core>=3.11"]
                build-backend = "flit_core.buildapi"

                [project]
                name = "metaflow-acme"
                version = "0.1.0"
                description = "acme"
                """,
                "src/" + _EXT_FILE: "CLIS_DESC = []\n",
            },
            count=1,
            note="the extension is found on disk (src layout)",
        ),
        Invalid(
            {
                "pyproject.toml": """
                [build-system]
                requires = ["hatchling"]
                build-backend = "hatchling.build"

                [tool.hatch.build.targets.wheel.extra-metadata]
                "top_level.txt" = "top_level.txt"
                """,
                _EXT_FILE: "CLIS_DESC = []\n",
            },
            count=1,
            line=5,
            column=1,
            message="extra-metadata",
            note="extra-metadata lands in .dist-info/extra_metadata/",
        ),
        Invalid(
            {
                "pyproject.toml": """
                [build-system]
                requires = ["setuptools>=77"]
                build-backend = "setuptools.build_meta"

                [tool.setuptools.packages.find]
                namespaces = false
                """,
                _EXT_FILE: "CLIS_DESC = []\n",
            },
            count=1,
            line=6,
            column=1,
            message="namespaces = false",
            note="find_packages semantics skip the namespace package",
        ),
    ]

    def check_file(self, file: ProjectFile) -> Iterable[FileReport]:
        data = file.data
        if not isinstance(data, dict) or not self._ships_extension(file):
            return
        backend = _table(data, "build-system", "build-backend")
        if backend is None or backend in SETUPTOOLS:
            yield from self._setuptools(file)
            return
        if not isinstance(backend, str):
            return
        tool = NO_TOP_LEVEL.get(backend.split(":", 1)[0].strip())
        if tool is None:
            return  # a backend we have not checked: say nothing rather than guess
        where = ("build-system", "build-backend")
        if tool == "hatchling":
            yield from self._hatchling(file, where)
        elif tool == "pdm-backend":
            if not self._pdm_hook(file):
                yield self.at_key(file, where, self._backend_message(tool))
        else:
            yield self.at_key(file, where, self._backend_message(tool))

    # -- which projects are extensions ----------------------------------------------------
    def _ships_extension(self, file: ProjectFile) -> bool:
        if self._extension_roots(file):
            return True
        return any(_mentions_ext(_table(file.data, *keys)) for keys in _BUILD_TABLES)

    def _extension_roots(self, file: ProjectFile) -> set[str]:
        """Directories (relative to the pyproject, "" = its own) holding metaflow_extensions."""
        prefix = f"{file.directory}/" if file.directory else ""
        return {
            layout.rstrip("/")
            for layout in ("", "src/")
            if any(path.startswith(f"{prefix}{layout}{EXT}/") for path in self.context.texts)
        }

    # -- messages -----------------------------------------------------------------------------
    @staticmethod
    def _backend_message(tool: str) -> str:
        return (
            f"{tool} writes no top_level.txt into the wheel, so Metaflow drops this extension once another "
            "extension is installed next to it (O30): build with setuptools.build_meta, or ship a "
            "top_level.txt listing metaflow_extensions in the .dist-info"
        )

    # -- hatchling ----------------------------------------------------------------------------
    def _hatchling(self, file: ProjectFile, where: tuple[str, ...]) -> Iterator[FileReport]:
        data = file.data
        name = _table(data, "project", "name")
        for base in (("tool", "hatch", "build"), ("tool", "hatch", "build", "targets", "wheel")):
            forced = _table(data, *base, "force-include")
            if isinstance(forced, dict):
                for source, target in forced.items():
                    if not isinstance(target, str) or not re.search(r"\.dist-info/top_level\.txt$", target.strip("/")):
                        continue
                    dist_info = target.strip("/").split("/")[-2]
                    if isinstance(name, str) and _normalize(dist_info.split("-", 1)[0]) != _normalize(name):
                        yield self.at_key(
                            file,
                            (*base, "force-include", source),
                            f"{dist_info} is not this wheel's .dist-info directory (the project is named "
                            f"{name!r}), so the wheel's own .dist-info still has no top_level.txt (O30); use "
                            "'<normalized name>-<version>.dist-info/top_level.txt'",
                        )
                    return
            hooks = _table(data, *base, "hooks")
            if isinstance(hooks, dict) and "custom" in hooks:
                custom = hooks["custom"] if isinstance(hooks["custom"], dict) else {}
                script = custom.get("path", "hatch_build.py")
                if self._hook_writes_file(file, script if isinstance(script, str) else "hatch_build.py"):
                    return
        extra = _table(data, "tool", "hatch", "build", "targets", "wheel", "extra-metadata")
        if isinstance(extra, dict) and any(
            isinstance(t, str) and t.rsplit("/", 1)[-1] == "top_level.txt" for t in extra.values()
        ):
            yield self.at_key(
                file,
                ("tool", "hatch", "build", "targets", "wheel", "extra-metadata"),
                "hatchling's extra-metadata puts top_level.txt in .dist-info/extra_metadata/, where Metaflow "
                "does not read it (O30): force-include it to '<name>-<version>.dist-info/top_level.txt' instead",
            )
            return
        yield self.at_key(file, where, self._backend_message("hatchling"))

    def _pdm_hook(self, file: ProjectFile) -> bool:
        """pdm-backend runs ``pdm_build.py`` (or ``[tool.pdm.build] custom-hook``) as a build hook."""
        custom = _table(file.data, "tool", "pdm", "build", "custom-hook")
        if isinstance(custom, str):
            return self._hook_writes_file(file, custom)
        default = f"{file.directory}/pdm_build.py" if file.directory else "pdm_build.py"
        return default in self.context.texts and self._hook_writes_file(file, "pdm_build.py")

    def _hook_writes_file(self, file: ProjectFile, script: str) -> bool:
        """The configured build hook script writes top_level.txt. A script that is not among
        the checked files (excluded, or outside the checked paths) gets the benefit of the
        doubt: rules never read the disk."""
        script = script[2:] if script.startswith("./") else script
        path = f"{file.directory}/{script}" if file.directory else script
        text = self.context.texts.get(path)
        return text is None or "top_level.txt" in text

    # -- setuptools ---------------------------------------------------------------------------
    def _setuptools(self, file: ProjectFile) -> Iterator[FileReport]:
        data = file.data
        setuptools = _table(data, "tool", "setuptools")
        if not isinstance(setuptools, dict):
            return
        base = ("tool", "setuptools")
        packages = setuptools.get("packages")
        if isinstance(packages, list):
            if not any(isinstance(p, str) and (p == EXT or p.startswith(EXT + ".")) for p in packages):
                yield self.at_key(
                    file,
                    (*base, "packages"),
                    "`packages` does not list metaflow_extensions: the wheel ships neither the extension nor a "
                    "top_level.txt naming it (O30); list its packages or use packages.find with namespaces = true",
                )
            return
        find = packages.get("find") if isinstance(packages, dict) else None
        if find is None:
            if "py-modules" in setuptools and packages is None:
                yield self.at_key(
                    file,
                    (*base, "py-modules"),
                    "`py-modules` without `packages` turns package discovery off: metaflow_extensions is not "
                    "in the wheel and top_level.txt does not name it (O30); add packages.find",
                )
            return
        if not isinstance(find, dict):
            return
        at_find = (*base, "packages", "find")
        if find.get("namespaces") is False:
            yield self.at_key(
                file,
                (*at_find, "namespaces"),
                "namespaces = false skips metaflow_extensions (a namespace package: it must not have an "
                "__init__.py), so neither the extension nor top_level.txt naming it is in the wheel (O30): "
                "remove it or set namespaces = true",
            )
            return
        include = find.get("include")
        if isinstance(include, list) and include:
            if not any(isinstance(p, str) and fnmatch.fnmatchcase(n, p) for p in include for n in _SAMPLE_PACKAGES[1:]):
                yield self.at_key(
                    file,
                    (*at_find, "include"),
                    "`include` matches no metaflow_extensions package, so the extension and the top_level.txt "
                    "entry naming it are left out of the wheel (O30): add \"metaflow_extensions*\"",
                )
                return
        exclude = find.get("exclude")
        if isinstance(exclude, list) and all(
            any(isinstance(p, str) and fnmatch.fnmatchcase(n, p) for p in exclude) for n in _SAMPLE_PACKAGES[1:]
        ):
            yield self.at_key(
                file,
                (*at_find, "exclude"),
                "`exclude` removes the metaflow_extensions packages, so the extension and the top_level.txt "
                "entry naming it are left out of the wheel (O30)",
            )
            return
        roots = self._extension_roots(file)
        where = find.get("where", ["."])
        if roots and isinstance(where, list) and all(isinstance(w, str) for w in where):
            searched = {w.strip().rstrip("/") for w in where}
            searched = {"" if w in (".", "./") else (w[2:] if w.startswith("./") else w) for w in searched}
            if not searched & roots:
                shown = ", ".join(sorted(r or "." for r in roots))
                yield self.at_key(
                    file,
                    (*at_find, "where") if "where" in find else at_find,
                    f"packages.find searches {sorted(where)} but metaflow_extensions is in {shown}: it is left "
                    f"out of the wheel and of top_level.txt (O30); set where = [\"{shown}\"]",
                )
