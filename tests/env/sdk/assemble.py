"""Lay out the Python SDK image's own files from a hash-checked wheelhouse.

    python3 tests/env/sdk/assemble.py WHEELHOUSE OUT

OUT receives what goes on top of a Debian rootfs with python3 to make the
engine's built-in Python SDK image (tests/env/testenv.sh does the rest):

- ``runtime/``: the Dang runtime module the engine loads (``tests/env/sdk/runtime``);
- ``usr/local/bin/uv``, ``uvx``: from the ``uv`` wheel;
- ``opt/python-sdk/sdk/``: the SDK as Dagger's runtime vendors it, a
  ``dagger-io`` project at version 0.0.0 whose ``src/dagger`` is the
  ``dagger/`` package of the pinned dagger-io wheel, and whose
  ``pyproject.toml`` is written here from that wheel's metadata;
- ``opt/python-sdk/wheels/``: every other wheel, for ``uv`` offline;
- ``opt/python-sdk/discover.py``, ``entrypoint.py``.
"""

from __future__ import annotations

import email.parser
import shutil
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SDK_DIST = "dagger_io"
UV_DIST = "uv"
VENDORED_VERSION = "0.0.0"  # what Dagger's own SDK source says, and so what the runtime installs
# ./sdk's build backend, as in the SDK's own pyproject (uv_build, module `dagger`).
SDK_BUILD_SYSTEM = 'requires = ["uv_build>=0.8.4,<0.12.0"]\nbuild-backend = "uv_build"'


def wheel_named(wheelhouse: Path, dist: str) -> Path:
    """The one wheel of distribution ``dist`` (normalized name) in the wheelhouse."""
    found = sorted(wheelhouse.glob(f"{dist}-*.whl"))
    if len(found) != 1:
        msg = f"{wheelhouse}: expected exactly one {dist} wheel, found {[p.name for p in found]}"
        raise SystemExit(msg)
    return found[0]


def toml_string(value: str) -> str:
    """A TOML basic string (metadata values are plain ASCII requirement strings)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sdk_pyproject(metadata: str) -> str:
    """pyproject.toml of the vendored SDK: the wheel's name, Python range and dependencies, version 0.0.0."""
    meta = email.parser.Parser().parsestr(metadata)
    requires = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    deps = "".join(f"    {toml_string(r)},\n" for r in requires)
    return (
        f"[build-system]\n{SDK_BUILD_SYSTEM}\n\n"
        "[project]\n"
        f"name = {toml_string(meta['Name'])}\n"
        f'version = "{VENDORED_VERSION}"\n'
        f"requires-python = {toml_string(meta['Requires-Python'])}\n"
        f"dependencies = [\n{deps}]\n\n"
        '[tool.uv.build-backend]\nmodule-name = "dagger"\n'
    )


def vendor_sdk(wheel: Path, dest: Path) -> None:
    """Unpack the wheel's dagger/ package under dest/src and write dest/pyproject.toml."""
    with zipfile.ZipFile(wheel) as z:
        metadata = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        for name in z.namelist():
            if name.startswith("dagger/") and not name.endswith("/"):
                target = dest / "src" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(name))
        (dest / "pyproject.toml").write_text(sdk_pyproject(z.read(metadata).decode()))


def install_uv(wheel: Path, bindir: Path) -> None:
    """uv and uvx from the uv wheel's scripts."""
    bindir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if "/scripts/" in name and Path(name).name in {"uv", "uvx"}:
                target = bindir / Path(name).name
                target.write_bytes(z.read(name))
                target.chmod(0o755)


def assemble(wheelhouse: Path, out: Path) -> None:
    sdk_wheel, uv_wheel = wheel_named(wheelhouse, SDK_DIST), wheel_named(wheelhouse, UV_DIST)
    shutil.copytree(HERE / "runtime", out / "runtime")
    install_uv(uv_wheel, out / "usr/local/bin")
    home = out / "opt/python-sdk"
    vendor_sdk(sdk_wheel, home / "sdk")
    (home / "wheels").mkdir(parents=True)
    for wheel in sorted(wheelhouse.glob("*.whl")):
        if wheel not in {sdk_wheel, uv_wheel}:
            shutil.copy2(wheel, home / "wheels" / wheel.name)
    for script in ("discover.py", "entrypoint.py"):
        shutil.copy2(HERE / script, home / script)
    (home / "entrypoint.py").chmod(0o755)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    assemble(Path(sys.argv[1]), Path(sys.argv[2]))
