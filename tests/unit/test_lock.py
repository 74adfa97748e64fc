"""uv.lock: what Dagger's Python runtime installs the module from, kept in step with pyproject and the test rig."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
LOCKED = {p["name"]: p for p in LOCK["package"]}
PROJECT = LOCKED[PYPROJECT["project"]["name"]]
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_requirements() -> dict[str, str]:
    """Name -> specifier of the project's dependencies and its extras', as pyproject states them."""
    wanted = list(PYPROJECT["project"]["dependencies"])
    for extra in PYPROJECT["project"].get("optional-dependencies", {}).values():
        wanted += extra
    found = {}
    for requirement in wanted:
        match = REQUIREMENT.match(requirement)
        assert match, requirement
        found[normalized(match[1])] = match[2].replace(" ", "")
    return found


def test_the_lock_was_made_from_this_pyproject() -> None:
    """What `uv lock --check` compares first: a dependency added or changed without relocking fails here."""
    locked = {normalized(r["name"]): r.get("specifier", "") for r in PROJECT["metadata"]["requires-dist"]}
    assert locked == pyproject_requirements(), "pyproject.toml changed since uv.lock: run `uv lock` (README)"


def test_dagger_io_is_the_vendored_sdk_at_the_path_uv_sources_names() -> None:
    """The runtime vendors the SDK where [tool.uv.sources] points; the lock must name that editable path."""
    path = PYPROJECT["tool"]["uv"]["sources"]["dagger-io"]["path"]
    assert LOCKED["dagger-io"]["source"] == {"editable": path}
    assert LOCKED["dagger-io"]["version"] == "0.0.0"  # the SDK's own source version, never a release


def test_every_other_package_is_pinned_to_one_public_index() -> None:
    """No mirror of this machine's or local path in the lock: users' runtimes read it against the public index."""
    registries = {p["source"]["registry"] for p in LOCK["package"] if "registry" in p["source"]}
    assert len(registries) == 1, registries
    (index,) = registries
    assert index.startswith("https://"), index  # an index, not a folder of wheels
    configured = {os.environ.get(v) for v in ("PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX")} - {None, ""}
    assert index not in configured, "uv.lock was made against this machine's own index: relock with uv's default"
    others = {n for n, p in LOCKED.items() if "registry" not in p["source"]}
    assert others == {"dagger-io", PYPROJECT["project"]["name"]}


def test_the_stand_ins_wheelhouse_has_the_locked_versions() -> None:
    """The SDK stand-in's wheelhouse and uv.lock name the same version of every package they share."""
    pinned = {}
    for line in (ROOT / "tests/env/sdk/requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", line)
        if match:
            pinned[normalized(match[1])] = match[2]
    shared = (pinned.keys() & LOCKED.keys()) - {"dagger-io"}  # the wheelhouse's is the release it vendors
    assert len(shared) > 20, shared  # the SDK's dependencies, at least
    assert {n: pinned[n] for n in shared} == {n: LOCKED[n]["version"] for n in shared}, (
        "recompile tests/env/sdk/requirements.txt from uv.lock (the command is in requirements.in)"
    )


def test_the_module_context_carries_the_lock() -> None:
    """Left out of dagger.json's include, the lock would never reach the runtime, which would then resolve afresh."""
    include = json.loads((ROOT / "dagger.json").read_text())["include"]
    assert "uv.lock" in include


def test_dependabot_keeps_the_lock_current() -> None:
    import yaml  # noqa: PLC0415 (the test extra's; only this test needs it)

    updates = yaml.safe_load((ROOT / ".github/dependabot.yml").read_text())["updates"]
    assert {"package-ecosystem": "uv", "directory": "/"}.items() <= next(
        u for u in updates if u["package-ecosystem"] == "uv"
    ).items()
