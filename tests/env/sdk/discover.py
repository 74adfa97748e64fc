"""Discovery for the Python SDK runtime stand-in: what to install, and how.

Dagger's own Python runtime (dagger/dagger `sdk/python/runtime`, `discovery.go`
and `python.go` at v0.21.8) reads a module's source before it builds the
container that serves the module's functions. Our runtime module
(`tests/env/sdk/runtime/main.dang`) is written in Dang, which has no TOML parser, so
it runs this script inside the runtime container instead and reads the
answers back, one file per answer, from the folder given as ``--out``.

Standard library only: it runs on the runtime container's Debian Python 3.11.
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

# The runtime container's Python (Debian bookworm's python3); the real runtime
# would pick a python:<version>-slim image instead.
PYTHON_VERSION = "3.11"
CONTEXT_ROOT = "/src"  # where the module's context directory is mounted, as in the real runtime
DEFAULT_VENDOR_PATH = "sdk"  # where the SDK is vendored when the module has no uv.lock

INSTALL_UV_LOCK = "uv-lock"  # uv.lock present: `uv lock`, then `uv sync --no-dev`
INSTALL_REQUIREMENTS_LOCK = "requirements-lock"  # legacy requirements.lock
INSTALL_PIP = "pip"  # neither: `uv pip install -e ./sdk -e .`, then `uv pip check`


class DiscoveryError(Exception):
    """The module cannot be loaded by this runtime; the message says why and what to do."""


def object_name(module_name: str) -> str:
    """The main object's class name for a module name, as Dagger derives it (PascalCase).

    Letters after a separator (``-``, ``_``, ``.``, space) or a digit start a
    new word; a capital that follows a capital is lowered ("HTTPServer" ->
    "Httpserver", as Go's strcase.ToCamel does); any other character is dropped.
    """
    out: list[str] = []
    start_word = True
    prev_upper = False
    for ch in module_name.strip():
        if not ch.isascii() or not ch.isalnum():
            start_word = start_word or ch in "-_. "
            prev_upper = False
            continue
        if ch.isdigit():
            out.append(ch)
            start_word, prev_upper = True, False
            continue
        upper = ch.isupper()
        if start_word:
            out.append(ch.upper())
        elif prev_upper and upper:
            out.append(ch.lower())
        else:
            out.append(ch)
        start_word, prev_upper = False, upper
    return "".join(out)


def project_name(module_name: str) -> str:
    """The distribution name for a module without a [project] name: kebab-case of the object name."""
    kebab = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", object_name(module_name)).lower()
    kebab = re.sub(r"[._-]+", "-", kebab)
    return re.sub(r"[^a-z0-9-]+", "", kebab).strip("-")


def package_name(project: str) -> str:
    """The import package name Dagger falls back to for a distribution name."""
    return project.replace("-", "_")


def python_version_wanted(pyproject: dict, python_version_file: str | None) -> str:
    """The Python version the module asks for: .python-version, else an ==/>= requires-python."""
    if python_version_file:
        return python_version_file.strip()
    minimum = str(pyproject.get("project", {}).get("requires-python", "")).strip()
    if minimum.startswith(("==", ">=")):
        return minimum[2:].strip()
    return ""


def has_python_files(source: Path) -> bool:
    """Whether a .py file is anywhere in source, outside the folders the runtime drops."""
    dropped = {".venv", "sdk"}
    return any(path.relative_to(source).parts[0] not in dropped for path in source.rglob("*.py"))


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """What the runtime does for one module; each field becomes one file under --out."""

    module: str
    main_object: str
    package: str
    install: str
    vendor_dir: str
    """Where the SDK goes, relative to the context directory ("" when not vendored)."""
    context_path: str
    workdir: str

    def files(self) -> dict[str, str]:
        return {
            "module": self.module,
            "main-object": self.main_object,
            "package": self.package,
            "install": self.install,
            "vendor-dir": self.vendor_dir,
            "context-path": self.context_path,
            "workdir": self.workdir,
        }


def plan(source: Path, *, module: str, subpath: str, digest: str) -> Plan:
    """Read the module source folder and decide, as the real runtime does for an existing module."""
    pyproject_file = source / "pyproject.toml"
    if not pyproject_file.is_file():
        msg = (
            f"module {module!r}: expected a pyproject.toml in {subpath!r}, found none. This engine's Python "
            "runtime loads existing modules only; creating one from the template (dagger init --sdk=python) "
            "is not supported here"
        )
        raise DiscoveryError(msg)
    try:
        pyproject = tomllib.loads(pyproject_file.read_text())
    except tomllib.TOMLDecodeError as e:
        msg = f"module {module!r}: pyproject.toml is not valid TOML: {e}"
        raise DiscoveryError(msg) from e
    # The real runtime globs "src/**/*.py|*.py"; the engine's pattern matcher
    # leaves "|" to its regular expression, so a .py file anywhere counts.
    if not has_python_files(source):
        msg = f"module {module!r}: no python files found in module source {subpath!r}"
        raise DiscoveryError(msg)

    version_file = source / ".python-version"
    wanted = python_version_wanted(pyproject, version_file.read_text() if version_file.is_file() else None)
    if wanted and not (wanted == PYTHON_VERSION or wanted.startswith(f"{PYTHON_VERSION}.")):
        msg = (
            f"module {module!r}: asks for Python {wanted} (requires-python or .python-version), but this "
            f"engine's Python runtime has Python {PYTHON_VERSION} only; ask for >={PYTHON_VERSION}"
        )
        raise DiscoveryError(msg)

    project = str(pyproject.get("project", {}).get("name", "")) or project_name(module)
    if (source / "uv.lock").is_file():
        install = INSTALL_UV_LOCK
        sources = pyproject.get("tool", {}).get("uv", {}).get("sources", {})
        vendor = str(sources.get("dagger-io", {}).get("path", ""))
    else:
        has_requirements_lock = (source / "requirements.lock").is_file()
        install = INSTALL_REQUIREMENTS_LOCK if has_requirements_lock else INSTALL_PIP
        vendor = DEFAULT_VENDOR_PATH

    context_path = f"{CONTEXT_ROOT}/{digest}"
    return Plan(
        module=module,
        main_object=object_name(module),
        package=package_name(project),
        install=install,
        vendor_dir=posixpath.normpath(posixpath.join(subpath, vendor)) if vendor else "",
        context_path=context_path,
        workdir=posixpath.normpath(posixpath.join(context_path, subpath)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the module's source folder (mounted)")
    parser.add_argument("--module", required=True, help="the module's original name (dagger.json name)")
    parser.add_argument("--subpath", required=True, help="source subpath within the context directory")
    parser.add_argument("--digest", required=True, help="the module source's digest (names its mount)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write one file per answer into")
    args = parser.parse_args(argv)
    try:
        found = plan(args.source, module=args.module, subpath=args.subpath, digest=args.digest)
    except DiscoveryError as e:
        print(f"python runtime: {e}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, value in found.files().items():
        (args.out / name).write_text(value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
