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

import dagger
import gql
import pytest
from dagger._exceptions import QueryErrorValue
from dagger.mod._converter import to_typedef
from dagger.mod._exceptions import ModuleError
from dagger.mod._utils import extract_enum_member_doc, get_doc

from pipelines.shared import defaults
from pipelines.shared.contract import LAYOUTS, Layout
from pipelines.shared.defaults import Arch
from pipelines.shared.errors import ChecksumError
from pipelines.shared.pins import HOOKS_VERSION
from runner_image.main import RunnerImage
from runner_image.settings import reported

ROOT = Path(__file__).resolve().parents[2]
OBJECT = RunnerImage.__dagger_object_type__  # type: ignore[attr-defined]


FUNCTIONS = sorted(set(OBJECT.functions) - {""})  # "" is the constructor, once get_constructor() ran


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def readme_table(header: str) -> list[list[str]]:
    """The README table under header: each row's cells."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(header) + 2  # past the header and its |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_the_readmes_settings_table_has_every_object_argument_and_its_default() -> None:
    """The README's table of object arguments is the object's surface: a rename, an addition or a changed
    literal default on one side only fails here."""
    constructor = {flag(p.name): p for p in OBJECT.get_constructor().parameters.values()}
    rows = {name: row for row in readme_table("| object argument | default | meaning |")
            for name in re.findall(r"--[a-z-]+", row[0])}  # fmt: skip
    assert set(rows) == set(constructor)
    for name, (_, default, _) in rows.items():
        engine = json.loads(constructor[name].default_value) if constructor[name].has_default else None
        literal = re.fullmatch(r"`([^`]+)`|(true|false)", default)
        if literal:
            assert json.dumps(engine) == (literal[2] or json.dumps(literal[1])), (name, default, engine)
        elif default.startswith("none"):
            assert engine is None, (name, default)


def test_the_readmes_functions_table_has_every_function_and_its_flags() -> None:
    """The README's table of functions names each function with each of its flags ("same as `build`" included)."""
    rows = {
        row[0].strip("`").replace("-", "_"): row[1] for row in readme_table("| function | flags (default) | returns |")
    }
    assert set(rows) == set(FUNCTIONS)
    for name, cell in rows.items():
        flags = set(re.findall(r"`(--[a-z-]+)", cell))
        for same in re.findall(r"same as `([a-z-]+)`", cell):
            flags |= set(re.findall(r"`(--[a-z-]+)", rows[same.replace("-", "_")]))
        assert flags == {flag(p.name) for p in OBJECT.functions[name].parameters.values()}, name


@pytest.mark.parametrize("name", ["", *FUNCTIONS])
def test_every_argument_and_function_is_documented(name: str) -> None:
    fn = OBJECT.get_constructor() if name == "" else OBJECT.functions[name]
    assert fn.doc, f"function {name or 'constructor'} has no docstring"
    undocumented = [p.name for p in fn.parameters.values() if not p.doc]
    assert undocumented == []


def test_what_reads_or_writes_the_world_runs_on_every_call() -> None:
    """Dagger answers a repeated call from its cache of function results unless told not to; these functions
    read upstream or a registry by names that move (check's and scan's --image, base-fixes's base tag), or push
    (runner_image/settings.py's EVERY_CALL_RUNS says why). The others are functions of their inputs.
    tests/engine/test_updates.py and test_dagger_call.py show it on the engine: a second `updates` sees a new
    release, a second `publish` asks the registry again."""
    never = {name for name in FUNCTIONS if OBJECT.functions[name].cache_policy == "never"}
    assert never == {"updates", "bump", "publish", "merge", "check", "scan", "base_fixes"}


@pytest.mark.parametrize("name", FUNCTIONS)
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
    assert target == "runner_image.main:RunnerImage"
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


def test_an_engine_error_no_stage_named_is_shown_as_the_engines_words() -> None:
    """The SDK's own error type, as the engine's answer makes it: shown without a traceback, with the way out."""
    said = 'failed to resolve image "x": connection refused'
    with pytest.raises(ModuleError) as handled, reported():
        raise dagger.QueryError([QueryErrorValue(said)], gql.GraphQLRequest("{ container { id } }"))
    assert str(handled.value).startswith(f"engine: a step of this call: the engine said: {said}. "), handled.value
    assert "check that address and that the engine can reach it" in str(handled.value)


# How the CLI turns an argument's GraphQL name into a flag (strcase.ToKebab, as
# read in Dagger 0.21.8): digits become words of their own ("runnerSha256" ->
# "runner-sha-256"). No flag may have one, or the README could not spell it.
@pytest.mark.parametrize("name", ["", *FUNCTIONS])
def test_no_flag_name_has_a_digit(name: str) -> None:
    fn = OBJECT.get_constructor() if name == "" else OBJECT.functions[name]
    assert [p.name for p in fn.parameters.values() if any(c.isdigit() for c in p.name)] == []
