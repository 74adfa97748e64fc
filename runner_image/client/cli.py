"""Client mode: ``python -m pipelines FUNCTION [flags]``, one subcommand per function of the module object.

It makes the same RunnerImage that `dagger call` makes and awaits the same
function, inside a session of its own with an engine (``dagger.connection``),
not the module runtime. What is only client mode's: the engine's time limit,
the download limits, --export of a Container or File, and checking what it
can before it connects (the settings of every spec, the CA certificate files).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import dagger
from dagger import dag
from dagger.mod._exceptions import FunctionError

from pipelines.network.download import DownloadPolicy, download_policy
from pipelines.shared.contract import Layout
from pipelines.shared.defaults import Arch
from pipelines.shared.errors import InvalidSpecError, RunnerImageError, shown
from pipelines.shared.pem import CA_CERTIFICATE_FLAG, valid_certificates
from pipelines.shared.spec import RunnerSpec
from runner_image.client.flags import (
    MODULE_ONLY_PARAMETERS,
    SETTINGS_TAKEN,
    Declared,
    parser,
    valid_secret_uri,
)
from runner_image.client.session import (
    ENGINE_GONE_EXIT,
    EngineUnreachable,
    engine_gone,
    engine_gone_message,
    engine_session,
    engine_unreachable_message,
)
from runner_image.main import RunnerImage

# What a host path given for each kind of engine object must be.
_HOST_PATHS = {dagger.File: Path.is_file, dagger.Directory: Path.is_dir, dagger.Socket: Path.exists}
_ENGINE_KINDS = (dagger.Secret, *_HOST_PATHS)


def _declarations(args: argparse.Namespace) -> list[tuple[str, str, Any]]:
    """(group, name, type hint) of every declaration the command's flags came from: the object's settings, then
    the function's parameters."""
    function = args.command.replace("-", "_")
    fields = typing.get_type_hints(RunnerImage, include_extras=True)
    taken = SETTINGS_TAKEN.get(function)
    names = [f.name for f in dataclasses.fields(RunnerImage) if taken is None or f.name in taken]
    settings = [("setting", name, fields[name]) for name in names]
    method = getattr(RunnerImage, function)
    hints = typing.get_type_hints(method, include_extras=True)
    skipped = ("self", "return", *MODULE_ONLY_PARAMETERS.get(function, ()))
    return [*settings, *(("parameter", name, hint) for name, hint in hints.items() if name not in skipped)]


def _checked_engine_inputs(args: argparse.Namespace) -> None:
    """Before connecting: every secret given is a reference, and every host path given for a File, Directory or
    Socket exists as that kind; refused by its flag otherwise."""
    for _, name, hint in _declarations(args):
        declared = Declared.of(name, hint)
        value = getattr(args, name)
        for one in (value if isinstance(value, list) else [value]) if value is not None else ():
            if declared.item is dagger.Secret:
                valid_secret_uri(one, name=name)
            wanted = _HOST_PATHS.get(declared.item)
            if wanted and not wanted(Path(one)):
                kind = {Path.is_file: "a file", Path.is_dir: "a directory"}.get(wanted, "a path that exists")
                msg = f"{declared.flag} {shown(one)}: expected {kind} on this machine, found none there"
                raise InvalidSpecError(msg)


def _plain(declared: Declared, value: Any) -> Any:
    """A flag's value as the declaration's type, when that needs no engine (enum values become members)."""
    if value is None or not declared.is_enum:
        return value
    return [declared.item(v) for v in value] if isinstance(value, list) else declared.item(value)


def _engine_object(declared: Declared, value: str) -> Any:
    """A flag's value as the engine object the declaration asks for, made in the open session."""
    if declared.item is dagger.Secret:
        return dag.secret(value)  # a reference, checked before connecting
    if declared.item is dagger.File:
        return dag.host().file(value)
    if declared.item is dagger.Directory:
        return dag.host().directory(value)
    return dag.host().unix_socket(value)


def _values(args: argparse.Namespace, group: str, *, in_session: bool) -> dict[str, Any]:
    """The command's values of one group ("setting" or "parameter"), by Python name.

    Out of a session, the engine objects are left out; in one, only they are given.
    """
    values = {}
    for kind, name, hint in _declarations(args):
        declared = Declared.of(name, hint)
        engine = declared.item in _ENGINE_KINDS
        if kind != group or engine != in_session:
            continue
        value = getattr(args, name)
        if engine and value is not None:
            made = [_engine_object(declared, v) for v in (value if isinstance(value, list) else [value])]
            value = made if isinstance(value, list) else made[0]
        values[name] = _plain(declared, value)
    return values


def read_certificates(paths: Sequence[str] | None) -> tuple[str, ...]:
    """The --ca-certificate files' PEM texts, checked; a file that cannot be read is refused by its path."""
    texts = []
    for index, path in enumerate(paths or (), start=1):
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            msg = f"{CA_CERTIFICATE_FLAG} #{index} {shown(path)}: expected a readable file, found {e.strerror}"
            raise InvalidSpecError(msg) from None
        texts.append(data.decode("utf-8", errors="replace"))  # a binary (DER) file is refused as such
    return valid_certificates(texts, list(paths or ()))


def image_from_args(args: argparse.Namespace) -> RunnerImage:
    """The module object with the command's settings but its engine objects (no engine needed)."""
    return RunnerImage(**_values(args, "setting", in_session=False))


def specs_from_args(args: argparse.Namespace) -> list[RunnerSpec]:
    """Every spec the command builds, made by the object's own spec() (no engine; the CA files are read here).

    Client mode makes them before it connects, so that a wrong setting is
    refused before an engine is needed; the function makes them again.
    """
    if args.command in {"merge", "check", "updates", "bump"}:
        return []
    image = image_from_args(args)
    pems = read_certificates(getattr(args, "ca_certificates", None))
    arches = [Arch(args.arch)] if hasattr(args, "arch") else [Arch(a) for a in args.arches or ()] or list(Arch)
    layouts = [Layout(args.layout)] if hasattr(args, "layout") else list(Layout)
    return [image.spec(arch, layout, pems) for arch in arches for layout in layouts]


async def _shown(result: object, args: argparse.Namespace, specs: list[RunnerSpec]) -> str:
    """What to print of a function's result: text as is; a Container or File exported to --export, or else
    the built image named (a Container) or the file's text (a File)."""
    if isinstance(result, dagger.Container | dagger.File):
        if args.export:
            return await result.export(args.export)
        if isinstance(result, dagger.File):
            return (await result.contents()).rstrip("\n")
        await result.sync()
        return f"built {specs[0].name} ({specs[0].platform})"
    return str(result)


async def run(args: argparse.Namespace) -> str:
    """Carry out one parsed command against an engine; return what to print."""
    function = args.command.replace("-", "_")
    image = image_from_args(args)
    specs = specs_from_args(args)  # a wrong setting is refused here, before connecting
    _checked_engine_inputs(args)
    policy = DownloadPolicy()
    if hasattr(args, "download_attempts"):  # merge and check download nothing
        policy = DownloadPolicy(attempts=args.download_attempts, timeout=args.download_timeout)
    with download_policy(policy):
        async with engine_session(args.engine_timeout):
            image = dataclasses.replace(image, **_values(args, "setting", in_session=True))
            parameters = {**_values(args, "parameter", in_session=False), **_values(args, "parameter", in_session=True)}
            result = await getattr(image, function)(**parameters)
            return await _shown(result, args, specs)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(anyio.run(run, args))
    except (RunnerImageError, FunctionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except EngineUnreachable as e:
        print(engine_unreachable_message(args.engine_timeout, e), file=sys.stderr)
        return ENGINE_GONE_EXIT
    except Exception as e:
        gone = engine_gone(e)
        if gone is None:
            raise
        print(engine_gone_message(gone), file=sys.stderr)
        return ENGINE_GONE_EXIT
    return 0
