"""The Dagger module's public surface, as the engine will register it.

Read through dagger.mod's own resolver (the objects `dagger call` is built
from), so renaming, dropping or retyping a function or a flag fails here.
"""

from __future__ import annotations

import enum
import importlib
import json
import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagger
import pytest
from dagger.mod._converter import to_typedef
from dagger.mod._exceptions import ModuleError
from dagger.mod._utils import extract_enum_member_doc, get_doc

from ci.main import Arch, Layout, RunnerImage, reported
from pipelines.audit.chart import Mode
from pipelines.shared import defaults
from pipelines.shared.contract import LAYOUTS
from pipelines.shared.defaults import (
    BASE_IMAGE,
    BUILDX_VERSION,
    DOCKER_APT_URL,
    DOCKER_KEY_FINGERPRINT,
    DOCKER_VERSION,
    GITHUB_API_URL,
    HOOKS_BASE_URL,
    HOOKS_NOVOLUME_VERSION,
    HOOKS_VERSION,
    RUNNER_BASE_URL,
    RUNNER_VERSION,
)
from pipelines.shared.errors import ChecksumError

OPT_STR = str | None
FILE = dagger.File | None
ARCHES = list[Arch] | None

# API name -> (type, default as the engine receives it (JSON), or REQUIRED)
REQUIRED = object()
CONSTRUCTOR: dict[str, tuple[Any, Any]] = {
    "runner_version": (str, RUNNER_VERSION),
    "hooks_version": (str, HOOKS_VERSION),
    "hooks_novolume_version": (str, HOOKS_NOVOLUME_VERSION),
    "base_image": (str, BASE_IMAGE),
    "runner_base_url": (str, RUNNER_BASE_URL),
    "hooks_base_url": (str, HOOKS_BASE_URL),
    "github_api_url": (str, GITHUB_API_URL),
    "github_token": (dagger.Secret | None, None),
    "runner_checksum": (list[str] | None, None),
    "hooks_checksum": (OPT_STR, None),
    "hooks_novolume_checksum": (OPT_STR, None),
    "allow_unverified": (bool, False),
    "novolume_hooks": (bool, True),
    "docker_cli": (bool, True),
    "docker_version": (str, DOCKER_VERSION),
    "buildx_version": (str, BUILDX_VERSION),
    "docker_apt_url": (str, DOCKER_APT_URL),
    "docker_key_fingerprint": (str, DOCKER_KEY_FINGERPRINT),
    "extra_package": (list[str] | None, None),
    "ca_certificate": (list[dagger.File] | None, None),
    "runner_archive": (FILE, None),
    "hooks_archive": (FILE, None),
    "hooks_novolume_archive": (FILE, None),
    "docker_apt_repo": (dagger.Directory | None, None),
    "source_url": (OPT_STR, None),
    "revision": (OPT_STR, None),
    "created": (OPT_STR, None),
}
ONE_IMAGE = {
    "arch": (Arch, "AMD64"),
    "layout": (Layout, "HOSTED"),
}
FUNCTIONS: dict[str, tuple[Any, dict[str, tuple[Any, Any]]]] = {
    "build": (dagger.Container, ONE_IMAGE),
    "smoke_test": (str, ONE_IMAGE),
    "ci": (
        str,
        {"arch": (ARCHES, None)},
    ),
    "sbom": (dagger.File, {"syft": (dagger.File, REQUIRED), **ONE_IMAGE}),
    "merge": (
        str,
        {
            "source": (list[str], REQUIRED),
            "address": (list[str], REQUIRED),
            "arch": (ARCHES, None),
            "layout": (Layout, "HOSTED"),
            "username": (OPT_STR, None),
            "password": (dagger.Secret | None, None),
        },
    ),
    "check": (
        str,
        {
            "image": (OPT_STR, None),
            "container": (dagger.Container | None, None),
            "mode": (list[Mode] | None, None),
            "arch": (Arch, "AMD64"),
            "docker_socket": (dagger.Socket | None, None),
            "username": (OPT_STR, None),
            "password": (dagger.Secret | None, None),
        },
    ),
    "updates": (str, {"fail_within": (int | None, None), "hold": (list[str] | None, None), "pins_file": (FILE, None)}),
    "bump": (dagger.File, {"hold": (list[str] | None, None), "pins_file": (FILE, None)}),
    "publish": (
        str,
        {
            "address": (str, REQUIRED),
            "arch": (ARCHES, None),
            "layout": (Layout, "HOSTED"),
            "username": (OPT_STR, None),
            "password": (dagger.Secret | None, None),
        },
    ),
}

ROOT = Path(__file__).resolve().parents[2]
OBJECT = RunnerImage.__dagger_object_type__  # type: ignore[attr-defined]


def surface(fn: Any) -> dict[str, tuple[Any, Any]]:
    return {
        p.name: (p.resolved_type, REQUIRED if not p.has_default else json.loads(p.default_value))
        for p in fn.parameters.values()
    }


def test_exact_function_names() -> None:
    assert set(OBJECT.functions) - {""} == set(FUNCTIONS)  # "" is the constructor, once get_constructor() ran


def test_constructor_arguments() -> None:
    assert surface(OBJECT.get_constructor()) == CONSTRUCTOR


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_arguments_and_return_type(name: str) -> None:
    returns, arguments = FUNCTIONS[name]
    fn = OBJECT.functions[name]
    assert surface(fn) == arguments
    assert fn.return_type == returns


@pytest.mark.parametrize("name", ["", *sorted(FUNCTIONS)])
def test_every_argument_and_function_is_documented(name: str) -> None:
    fn = OBJECT.get_constructor() if name == "" else OBJECT.functions[name]
    assert fn.doc, f"function {name or 'constructor'} has no docstring"
    undocumented = [p.name for p in fn.parameters.values() if not p.doc]
    assert undocumented == []


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_type_is_one_the_engine_accepts(name: str) -> None:
    fn = OBJECT.functions[name]
    to_typedef(fn.return_type, name)
    for p in fn.parameters.values():
        to_typedef(p.resolved_type, p.name)


def test_enums_match_the_library_and_are_documented() -> None:
    assert [a.value for a in Arch] == list(defaults.ARCHES)
    assert [layout.value for layout in Layout] == list(LAYOUTS)
    for enum_cls in (Arch, Layout):
        assert get_doc(enum_cls)
        docs = extract_enum_member_doc(enum_cls)
        assert all(docs[m.name].description for m in enum_cls), enum_cls


def test_main_object_is_the_entry_point() -> None:
    """dagger.mod finds the main object through this entry point (read from pyproject)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = pyproject["project"]["entry-points"]["dagger.mod"]["main_object"]
    assert target == "ci.main:RunnerImage"
    module, _, name = target.partition(":")
    assert getattr(importlib.import_module(module), name) is RunnerImage


def test_dagger_json_names_the_module_and_engine() -> None:
    config = json.loads((ROOT / "dagger.json").read_text())
    assert config["name"] == "runner-image"  # -> main object RunnerImage
    assert config["engineVersion"] == "v0.21.8"
    assert config["sdk"]["source"] == "python"
    assert version("dagger-io") == "0.21.8"


def test_spec_built_by_the_module() -> None:
    obj = RunnerImage(
        runner_version="v2.336.0",
        hooks_checksum="A" * 64,
        hooks_novolume_version="0.8.0",
        runner_checksums=["arm64=" + "b" * 64],
    )
    spec = obj.spec(Arch.ARM64, Layout.MINIMAL)
    assert (spec.arch, spec.layout.value, spec.runner_version) == ("arm64", "minimal", "2.336.0")
    assert (spec.hooks_version, spec.hooks_novolume_version) == (HOOKS_VERSION, "0.8.0")
    assert (spec.hooks_sha256, spec.runner_sha256) == ("a" * 64, "b" * 64)


# The engine's rule for enum member names (core/gqlformat.go, v0.21.8): a name
# of capitals, digits and underscores (not leading) is kept; any other is
# turned into SCREAMING_SNAKE_CASE, which splits letters from digits.
CONVENTIONAL_MEMBER = re.compile(r"[A-Z][A-Z0-9_]*")


@pytest.mark.parametrize("enum_cls", [Arch, Layout])
def test_enum_members_are_named_as_users_type_them(enum_cls: type[enum.Enum]) -> None:
    """`dagger call` matches `--arch arm64` against member names, ignoring case, as the engine keeps them."""
    for member in enum_cls:
        assert CONVENTIONAL_MEMBER.fullmatch(member.name), member.name
        assert member.name.lower() == member.value  # --arch <value> is what the README types


def test_client_mode_pins_the_sdk_to_the_engine_version() -> None:
    """dagger-io is unpinned for Dagger's runtime (it vendors 0.0.0), pinned for client mode in one place."""
    engine = json.loads((ROOT / "dagger.json").read_text())["engineVersion"].removeprefix("v")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "dagger-io" in pyproject["project"]["dependencies"]  # bare: the runtime's ./sdk is 0.0.0
    assert pyproject["tool"]["uv"]["sources"]["dagger-io"] == {"path": "sdk", "editable": True}
    pins_ = [line for line in (ROOT / "ci/constraints.txt").read_text().splitlines() if line and line[0] != "#"]
    assert pins_ == [f"dagger-io=={engine}"]
    assert version("dagger-io") == engine


def test_our_errors_reach_dagger_call_without_a_traceback_and_bugs_keep_theirs() -> None:
    """The SDK prints no traceback for its ModuleError family; reported() turns only our errors into one."""
    msg = "x.tar.gz: expected SHA-256 a, found b"
    with pytest.raises(ModuleError) as handled, reported():
        raise ChecksumError(msg)
    assert str(handled.value) == f"checksum: {msg}"
    bug = "a bug"
    with pytest.raises(KeyError), reported():
        raise KeyError(bug)


# How the CLI turns an argument's GraphQL name into a flag (strcase.ToKebab, as
# read in Dagger 0.21.8): digits become words of their own ("runnerSha256" ->
# "runner-sha-256"). No flag may have one, or the README could not spell it.
@pytest.mark.parametrize("name", ["", *sorted(FUNCTIONS)])
def test_no_flag_name_has_a_digit(name: str) -> None:
    fn = OBJECT.get_constructor() if name == "" else OBJECT.functions[name]
    assert [p.name for p in fn.parameters.values() if any(c.isdigit() for c in p.name)] == []
