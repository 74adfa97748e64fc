"""The Python SDK runtime stand-in's pure parts: discovery, the vendored SDK, the wheelhouse pins.

What it does inside a real engine is tested through `dagger call` in
tests/engine/test_dagger_call.py.
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.env.sdk import assemble, discover

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "tests/env/sdk"


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("runner-image", "RunnerImage"),
        ("my_module", "MyModule"),
        ("my.module name", "MyModuleName"),
        ("HTTPServer", "Httpserver"),
        ("v2beta-thing", "V2BetaThing"),
        ("already", "Already"),
        ("  --x--  ", "X"),
    ],
)
def test_object_name_is_pascal_case_as_dagger_derives_it(module: str, expected: str) -> None:
    assert discover.object_name(module) == expected


def test_project_and_package_names_for_a_module_without_a_project_name() -> None:
    assert discover.project_name("runner-image") == "runner-image"
    assert discover.project_name("MyCoolModule") == "my-cool-module"
    assert discover.package_name("runner-image") == "runner_image"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


PYPROJECT = '[project]\nname = "runner-image"\nrequires-python = ">=3.11"\ndependencies = ["dagger-io"]\n'


def test_plan_for_this_repository_installs_from_its_uv_lock_and_vendors_sdk() -> None:
    plan = discover.plan(ROOT, module="runner-image", subpath=".", digest="xxh3:abc")
    assert plan == discover.Plan(
        module="runner-image",
        main_object="RunnerImage",
        package="runner_image",
        install=discover.INSTALL_UV_LOCK,
        vendor_dir="sdk",
        context_path="/src/xxh3:abc",
        workdir="/src/xxh3:abc",
    )


def test_plan_with_uv_lock_vendors_where_tool_uv_sources_points(tmp_path: Path) -> None:
    pyproject = PYPROJECT + '\n[tool.uv.sources]\ndagger-io = { path = "vendor/dagger", editable = true }\n'
    src = write(tmp_path, {"pyproject.toml": pyproject, "uv.lock": "", "src/runner_image/main.py": ""})
    plan = discover.plan(src, module="runner-image", subpath="mods/ri", digest="d")
    assert plan.install == discover.INSTALL_UV_LOCK
    assert plan.vendor_dir == "mods/ri/vendor/dagger"
    assert plan.workdir == "/src/d/mods/ri"


def test_plan_with_uv_lock_and_no_source_vendors_nothing(tmp_path: Path) -> None:
    src = write(tmp_path, {"pyproject.toml": PYPROJECT, "uv.lock": "", "main.py": ""})
    assert discover.plan(src, module="m", subpath=".", digest="d").vendor_dir == ""


def test_plan_with_requirements_lock(tmp_path: Path) -> None:
    src = write(tmp_path, {"pyproject.toml": PYPROJECT, "requirements.lock": "", "main.py": ""})
    plan = discover.plan(src, module="m", subpath=".", digest="d")
    assert (plan.install, plan.vendor_dir) == (discover.INSTALL_REQUIREMENTS_LOCK, "sdk")


def test_project_name_comes_from_pyproject_else_module(tmp_path: Path) -> None:
    src = write(tmp_path, {"pyproject.toml": "[project]\nname = 'other-name'\n", "main.py": ""})
    assert discover.plan(src, module="runner-image", subpath=".", digest="d").package == "other_name"
    (tmp_path / "pyproject.toml").write_text("[tool.x]\n")
    assert discover.plan(src, module="runner-image", subpath=".", digest="d").package == "runner_image"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"main.py": ""}, "expected a pyproject.toml in '.', found none"),
        ({"pyproject.toml": PYPROJECT}, "no python files found"),
        ({"pyproject.toml": PYPROJECT, "sdk/x.py": "", ".venv/y.py": ""}, "no python files found"),
        ({"pyproject.toml": "[project", "main.py": ""}, "not valid TOML"),
        ({"pyproject.toml": PYPROJECT.replace("3.11", "3.13"), "main.py": ""}, "asks for Python 3.13"),
        ({"pyproject.toml": PYPROJECT, ".python-version": "3.12\n", "main.py": ""}, "asks for Python 3.12"),
    ],
)
def test_modules_this_runtime_cannot_load_are_refused_with_a_reason(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    src = write(tmp_path, files)
    with pytest.raises(discover.DiscoveryError, match=re.escape(message)):
        discover.plan(src, module="m", subpath=".", digest="d")


def test_main_writes_one_file_per_answer_and_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    args = ["--source", str(ROOT), "--module", "runner-image", "--subpath", ".", "--digest", "d", "--out", str(out)]
    assert discover.main(args) == 0
    assert (out / "main-object").read_text() == "RunnerImage"
    assert (out / "install").read_text() == "uv-lock"
    expected = discover.plan(ROOT, module="runner-image", subpath=".", digest="d").files()
    assert {p.name: p.read_text() for p in out.iterdir()} == expected

    args[1] = str(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    assert discover.main(args) == 1
    assert "python runtime: module 'runner-image': expected a pyproject.toml" in capsys.readouterr().err


def test_vendored_sdk_pyproject_is_dagger_io_0_0_0_with_the_wheels_dependencies() -> None:
    metadata = (
        "Metadata-Version: 2.4\nName: dagger-io\nVersion: 0.21.8\nRequires-Python: >=3.10\n"
        'Requires-Dist: anyio>=3.6.2\nRequires-Dist: gql[httpx]>=4.0\nRequires-Dist: pytest; extra == "test"\n\n'
    )
    parsed = tomllib.loads(assemble.sdk_pyproject(metadata))
    assert parsed["project"] == {
        "name": "dagger-io",
        "version": "0.0.0",
        "requires-python": ">=3.10",
        "dependencies": ["anyio>=3.6.2", "gql[httpx]>=4.0"],
    }
    assert parsed["build-system"]["build-backend"] == "uv_build"
    assert parsed["tool"]["uv"]["build-backend"]["module-name"] == "dagger"


def pinned(path: Path) -> dict[str, str]:
    """name -> version of every `name==version \\` line, each followed by --hash lines."""
    text = path.read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, flags=re.MULTILINE))
    for name in pins:
        block = text.split(f"\n{name}==", 1)[1].split("\n    # via", 1)[0]
        assert "--hash=sha256:" in block, f"{name} is not pinned by hash"
    return pins


def test_wheelhouse_pins_every_runtime_dependency_by_hash() -> None:
    pins = {Requirement(name).name.lower(): v for name, v in pinned(SDK / "requirements.txt").items()}
    engine = json.loads((ROOT / "dagger.json").read_text())["engineVersion"].removeprefix("v")
    assert pins["dagger-io"] == engine  # its dagger/ package is the vendored ./sdk
    module_deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    sdk_deps = [r for r in requires("dagger-io") or [] if "extra ==" not in r]
    for dep in [*module_deps, *sdk_deps, "setuptools", "uv-build", "uv"]:
        req = Requirement(dep)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{dep} is not in tests/env/sdk/requirements.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (dep, pins[name])


def test_runtime_announces_the_uv_it_ships() -> None:
    uv = pinned(SDK / "requirements.txt")["uv"]
    assert f'"DAGGER_UV_VERSION", "{uv}"' in (SDK / "runtime/main.dang").read_text()
    assert (
        json.loads((SDK / "runtime/dagger.json").read_text())["engineVersion"]
        == json.loads((ROOT / "dagger.json").read_text())["engineVersion"]
    )
