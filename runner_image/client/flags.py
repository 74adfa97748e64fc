"""Client mode's flags: one argparse subcommand per module function, made from the module object's declarations."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import inspect
import re
import types
import typing
from typing import Any

import dagger

from pipelines.network.download import DownloadPolicy
from pipelines.shared.errors import InvalidSpecError
from runner_image.client.session import (
    DEFAULT_ENGINE_TIMEOUT,
)
from runner_image.main import RunnerImage

# env://NAME (a POSIX variable name) or file://PATH (visible ASCII, no spaces).
# Whatever follows the scheme is never echoed: it may be the password itself.
_SECRET_URI = re.compile(r"env://[A-Za-z_][A-Za-z0-9_]{0,254}|file://[!-~]{1,4096}")


# Host-side stand-ins for what exists only in Dagger: what client mode takes instead.
_METAVARS: dict[object, str] = {
    dagger.Secret: "env://VAR",
    dagger.File: "PATH",
    dagger.Directory: "DIR",
    dagger.Socket: "PATH",
}


def _enum_value(value: str) -> str:
    """An enum value as `dagger call` matches it: any case, _ for - (KUBERNETES_NOVOLUME)."""
    return value.lower().replace("_", "-")


@dataclasses.dataclass(frozen=True)
class Declared:
    """What a declaration of the module's (an object field, a function parameter) says about its flag."""

    name: str  # the flag's name: its Name, else the Python name
    doc: str
    one: Any  # the type without `| None`
    item: Any  # the type of one value (of a list's items, for a list)

    @classmethod
    def of(cls, dest: str, hint: Any) -> Declared:
        extras = getattr(hint, "__metadata__", ())
        kind = typing.get_args(hint)[0] if extras else hint
        one = kind
        if typing.get_origin(kind) in (types.UnionType, typing.Union):  # X | None -> X
            one = next(a for a in typing.get_args(kind) if a is not type(None))
        return cls(
            name=next((m.name for m in extras if isinstance(m, dagger.Name)), dest),
            doc=next((m.documentation for m in extras if isinstance(m, dagger.Doc)), ""),
            one=one,
            item=typing.get_args(one)[0] if typing.get_origin(one) is list else one,
        )

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_enum(self) -> bool:
        return isinstance(self.item, type) and issubclass(self.item, enum.Enum)


def _add_flag(p: argparse.ArgumentParser, dest: str, hint: Any, default: Any) -> None:
    """One flag of a declaration of the module's (a field of the object, a function's parameter), as `dagger call`
    derives it from the same declaration.

    Its name (dest, or its Name), help (its Doc), default and kind come from
    the declaration: booleans get --no-..., lists repeat, enums give their
    values as choices, a Secret takes env://VAR or file://PATH, a File,
    Directory or Socket a host path; no default makes it required.
    """
    declared = Declared.of(dest, hint)
    options: dict[str, Any] = {"dest": dest, "help": declared.doc}
    if default in (dataclasses.MISSING, inspect.Parameter.empty):
        options["required"] = True
    else:
        options["default"] = default.value if isinstance(default, enum.Enum) else default
    if declared.item is dagger.Secret:
        options["help"] = f"{declared.doc}; as env://VAR or file://PATH"
    if declared.one is bool:
        options["action"] = argparse.BooleanOptionalAction
    else:
        options["metavar"] = _METAVARS.get(declared.item, declared.name.upper())
    if typing.get_origin(declared.one) is list:
        options["action"] = "append"
    if declared.is_enum:
        options.update(type=_enum_value, choices=[m.value for m in declared.item], metavar=None)
    elif declared.item is int:
        options["type"] = int
    p.add_argument(declared.flag, **options)


def _spec_flags(only: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The module object's settings (or only the ones named), from its own field declarations."""
    p = argparse.ArgumentParser(add_help=False)
    hints = typing.get_type_hints(RunnerImage, include_extras=True)
    for field in dataclasses.fields(RunnerImage):
        if only is None or field.name in only:
            _add_flag(p, field.name, hints[field.name], field.default)
    return p


def _function_flags(p: argparse.ArgumentParser, function: str, *, module_only: tuple[str, ...] = ()) -> None:
    """The flags of one of the module's functions, from its own parameters (but module_only ones)."""
    method = getattr(RunnerImage, function)
    hints = typing.get_type_hints(method, include_extras=True)
    for name, parameter in inspect.signature(method).parameters.items():
        if name != "self" and name not in module_only:
            _add_flag(p, name, hints[name], parameter.default)


def _summary(function: str) -> str:
    """A subcommand's help: its function's docstring's first line."""
    return (inspect.getdoc(getattr(RunnerImage, function)) or "").splitlines()[0]


def _download_flags() -> argparse.ArgumentParser:
    """How hard to try each download (client mode only; see pipelines.network.download)."""
    p = argparse.ArgumentParser(add_help=False)
    default = DownloadPolicy()
    p.add_argument(
        "--download-attempts",
        type=int,
        default=default.attempts,
        metavar="N",
        help=f"tries per download or push on transient failures (5xx, reset, timeout); default {default.attempts}",
    )
    p.add_argument(
        "--download-timeout",
        type=float,
        default=default.timeout,
        metavar="SECONDS",
        help=f"time limit of one download or push attempt; default {default.timeout:g}",
    )
    return p


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        msg = f"engine timeout {value!r}: expected seconds, more than 0 and at most 3600"
        raise argparse.ArgumentTypeError(msg)
    return seconds


# Of the object's settings, merge takes only the runner version (it builds
# nothing; it checks that version's label, and the shared --source-url would
# read as its --source) and check none (it checks an image from a registry).
SETTINGS_TAKEN: dict[str, tuple[str, ...]] = {"merge": ("runner_version",), "check": ()}
# A Container exists only inside Dagger: check and scan take --image here, not --container.
MODULE_ONLY_PARAMETERS: dict[str, tuple[str, ...]] = {"check": ("container",), "scan": ("container",)}


def functions() -> list[str]:
    """The module object's functions, in the order runner_image/main.py declares them."""
    return [name for name in RunnerImage.__dagger_object_type__.functions if name]  # type: ignore[attr-defined]


def returns_an_artifact(function: str) -> bool:
    """Whether a function returns a Container or File, which client mode writes to --export PATH."""
    return typing.get_type_hints(getattr(RunnerImage, function)).get("return") in (dagger.Container, dagger.File)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m pipelines",
        description="The runner-image module's functions, run against a Dagger engine without `dagger call`: "
        "the same flags, files and secrets as host paths and env:// or file:// references.",
    )
    top.add_argument(
        "--engine-timeout",
        type=positive_seconds,
        default=DEFAULT_ENGINE_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the Dagger engine to answer at the start; default {DEFAULT_ENGINE_TIMEOUT:g}",
    )
    sub = top.add_subparsers(dest="command", required=True)
    for function in functions():
        taken = SETTINGS_TAKEN.get(function)
        parents = [_spec_flags(), _download_flags()] if taken is None else [_spec_flags(only=taken)]
        command = sub.add_parser(function.replace("_", "-"), parents=parents, help=_summary(function))
        _function_flags(command, function, module_only=MODULE_ONLY_PARAMETERS.get(function, ()))
        if returns_an_artifact(function):
            what = "the image as an OCI tarball" if function == "build" else "the file"
            command.add_argument("--export", metavar="PATH", help=f"write {what} to PATH")
    next(a for a in sub.choices["check"]._actions if a.dest == "image").required = True
    return top


def valid_secret_uri(value: str, *, name: str = "password") -> str:
    """A secret reference (env:// or file://), never the password or token itself."""
    if not isinstance(value, str) or not _SECRET_URI.fullmatch(value):
        msg = (
            f"{name}: expected env://VAR or file://PATH (VAR of A-Z a-z 0-9 _, PATH without spaces), "
            f"never the {name.replace('_', ' ')} itself on the command line; the value given is not shown"
        )
        raise InvalidSpecError(msg)
    return value
