"""The two front doors agree: every flag of `dagger call` has its client-mode twin, with the same default and values.

The module's side is read through dagger.mod's own resolver (what the engine
registers); the client's from its argparse parser. A setting added to one door
only, a default changed on one side, or a value one door accepts and the other
refuses fails here.
"""

from __future__ import annotations

import argparse
import enum
import json
from typing import Any

import pytest

from runner_image.client.flags import MODULE_ONLY_PARAMETERS, SETTINGS_TAKEN, parser, returns_an_artifact
from runner_image.main import RunnerImage

OBJECT = RunnerImage.__dagger_object_type__  # type: ignore[attr-defined]
# Client flags the module has no argument for: how hard to try a download, and the engine's wait
# (the module runs inside the engine), and --export of a Container or File (the module chains `export` instead).
CLIENT_ONLY = {"--download-attempts", "--download-timeout", "--export", "--engine-timeout", "--help"}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def module_arguments(fn: Any) -> dict[str, Any]:
    """API name -> default as the engine receives it (JSON), None when required."""
    return {p.name: json.loads(p.default_value) if p.has_default else None for p in fn.parameters.values()}


def client_flags(command: str) -> dict[str, argparse.Action]:
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {
        option: action
        for action in sub.choices[command]._actions
        for option in action.option_strings
        if option.startswith("--") and not option.startswith("--no-")
    }


def normalized(value: Any) -> Any:
    """A default as both doors mean it: enum members by value, in lowercase."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def subcommands() -> set[str]:
    return set(next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices)


def test_every_function_is_a_subcommand() -> None:
    functions = set(OBJECT.functions) - {""}  # "" is the constructor, once get_constructor() has run
    assert {name.replace("_", "-") for name in functions} == subcommands()
    assert {"sbom", "updates", "bump"} <= functions


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_each_door_has_the_others_flags_with_the_same_defaults(command: str) -> None:
    function = command.replace("-", "_")
    constructor = module_arguments(OBJECT.get_constructor())
    if function in SETTINGS_TAKEN:
        constructor = {k: v for k, v in constructor.items() if k in SETTINGS_TAKEN[function]}
    arguments = module_arguments(OBJECT.functions[function])
    skipped = MODULE_ONLY_PARAMETERS.get(function, ())
    module = {**constructor, **{k: v for k, v in arguments.items() if k not in skipped}}
    client = client_flags(command)
    expected_client_only = CLIENT_ONLY if returns_an_artifact(function) else CLIENT_ONLY - {"--export"}
    assert {flag(name) for name in module} == set(client) - expected_client_only
    for name, default in module.items():
        action = client[flag(name)]
        if action.required:
            assert default is None, name
            continue
        client_default = action.default
        if isinstance(action, argparse._AppendAction):  # repeatable: None means all arches, or none
            assert default is None, name
            assert client_default is None, name
        else:
            assert normalized(client_default) == normalized(default), (name, client_default, default)


@pytest.mark.parametrize("command", ["build", "smoke-test", "ci", "publish", "merge"])
@pytest.mark.parametrize("value", ["arm64", "ARM64", "Arm64"])
def test_client_mode_takes_enum_values_in_any_case_as_dagger_call_does(command: str, value: str) -> None:
    needed = {"publish": ["--address", "r/i:t"], "merge": ["--source", "r/i:a", "--address", "r/i:t"]}
    layout = [] if command == "ci" else ["--layout", "MINIMAL"]  # ci builds both layouts
    args = parser().parse_args([command, "--arch", value, *layout, *needed.get(command, [])])
    arches = getattr(args, "arches", None) or [args.arch]
    assert arches == ["arm64"]
    assert getattr(args, "layout", "minimal") == "minimal"
