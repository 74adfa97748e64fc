"""The Dagger module's public surface, as the engine will register it.

Read through dagger.mod's own resolver (the objects `dagger call` is built
from), so renaming, dropping or retyping a function or a flag fails here.
"""

from __future__ import annotations

import importlib
import json
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagger
import pytest
from dagger.mod._converter import to_typedef
from dagger.mod._utils import extract_enum_member_doc, get_doc

from ci.main import Arch, Layout, RunnerImage
from pipelines import spec as pins

OPT_STR = str | None
FILE = dagger.File | None
ARCHES = list[Arch] | None

# API name -> (type, default as the engine receives it (JSON), or REQUIRED)
REQUIRED = object()
CONSTRUCTOR: dict[str, tuple[Any, Any]] = {
    "runner_version": (str, pins.RUNNER_VERSION),
    "hooks_version": (str, pins.HOOKS_VERSION),
    "hooks_novolume_version": (str, pins.HOOKS_NOVOLUME_VERSION),
    "base_image": (str, pins.BASE_IMAGE),
    "runner_base_url": (str, pins.RUNNER_BASE_URL),
    "hooks_base_url": (str, pins.HOOKS_BASE_URL),
    "runner_sha256_amd64": (OPT_STR, None),
    "runner_sha256_arm64": (OPT_STR, None),
    "hooks_sha256": (OPT_STR, None),
    "hooks_novolume_sha256": (OPT_STR, None),
    "allow_unverified": (bool, False),
    "novolume_hooks": (bool, True),
    "docker_cli": (bool, False),
    "docker_version": (str, pins.DOCKER_VERSION),
    "buildx_version": (str, pins.BUILDX_VERSION),
    "docker_apt_url": (str, pins.DOCKER_APT_URL),
    "docker_key_fingerprint": (str, pins.DOCKER_KEY_FINGERPRINT),
    "source": (OPT_STR, None),
    "revision": (OPT_STR, None),
    "created": (OPT_STR, None),
}
ONE_IMAGE = {
    "arch": (Arch, "amd64"),
    "layout": (Layout, "hosted"),
    "runner_sha256": (OPT_STR, None),
    "runner_archive": (FILE, None),
    "hooks_archive": (FILE, None),
    "hooks_novolume_archive": (FILE, None),
}
FUNCTIONS: dict[str, tuple[Any, dict[str, tuple[Any, Any]]]] = {
    "build": (dagger.Container, ONE_IMAGE),
    "smoke_test": (str, ONE_IMAGE),
    "ci": (
        str,
        {
            "arch": (ARCHES, None),
            "runner_archive": (FILE, None),
            "hooks_archive": (FILE, None),
            "hooks_novolume_archive": (FILE, None),
        },
    ),
    "publish": (
        str,
        {
            "address": (str, REQUIRED),
            "arch": (ARCHES, None),
            "layout": (Layout, "hosted"),
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
    assert set(OBJECT.functions) == set(FUNCTIONS)


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
    assert [a.value for a in Arch] == list(pins.ARCHES)
    assert [a.name for a in Arch] == list(pins.ARCHES)
    assert [layout.value for layout in Layout] == list(pins.LAYOUTS)
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
    obj = RunnerImage(runner_version="v2.336.0", hooks_sha256="A" * 64, hooks_novolume_version="0.8.0")
    spec = obj.spec(Arch.arm64, Layout.minimal, runner_sha256="b" * 64)
    assert (spec.arch, spec.layout.value, spec.runner_version) == ("arm64", "minimal", "2.336.0")
    assert (spec.hooks_version, spec.hooks_novolume_version) == ("0.7.0", "0.8.0")
    assert (spec.hooks_sha256, spec.runner_sha256) == ("a" * 64, "b" * 64)
