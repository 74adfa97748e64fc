"""Client mode's flags: one argparse subcommand per module function, the object's settings as flags of each."""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing
from typing import Any

import dagger

from ci.main import RunnerImage
from pipelines.audit.chart import MODES
from pipelines.client.session import (
    DEFAULT_ENGINE_TIMEOUT,
)
from pipelines.network.download import DownloadPolicy
from pipelines.shared.contract import DEFAULT_LAYOUT, LAYOUTS
from pipelines.shared.defaults import (
    ARCHES,
    DEFAULT_ARCH,
    RUNNER_VERSION,
)
from pipelines.shared.errors import InvalidSpecError

# env://NAME (a POSIX variable name) or file://PATH (visible ASCII, no spaces).
# Whatever follows the scheme is never echoed: it may be the password itself.
_SECRET_URI = re.compile(r"env://[A-Za-z_][A-Za-z0-9_]{0,254}|file://[!-~]{1,4096}")


def _setting_flag(p: argparse.ArgumentParser, field: dataclasses.Field[Any], hint: Any) -> None:
    """One flag of the module object's setting field, as `dagger call` derives it from the same declaration.

    Its name (the field's, or its Name), help (its Doc), default and kind come
    from the field: booleans get --no-..., lists repeat, a Secret takes
    env://VAR or file://PATH, a File or Directory a host path.
    """
    extras = getattr(hint, "__metadata__", ())
    name = next((m.name for m in extras if isinstance(m, dagger.Name)), field.name)
    doc = next((m.documentation for m in extras if isinstance(m, dagger.Doc)), "")
    kind = typing.get_args(hint)[0] if extras else hint
    inner = [a for a in typing.get_args(kind) if a is not type(None)] or [kind]  # X | None -> X
    one = inner[0]
    item = typing.get_args(one)[0] if typing.get_origin(one) is list else one
    flag = "--" + name.replace("_", "-")
    metavar = {dagger.Secret: "env://VAR", dagger.File: "PATH", dagger.Directory: "DIR"}.get(item, name.upper())
    if item is dagger.Secret:
        doc = f"{doc}; as env://VAR or file://PATH"
    options: dict[str, Any] = {"dest": field.name, "help": doc, "default": field.default}
    if one is bool:
        options["action"] = argparse.BooleanOptionalAction
    elif typing.get_origin(one) is list:
        options["action"] = "append"
    if one is not bool:
        options["metavar"] = metavar
    p.add_argument(flag, **options)


def _spec_flags() -> argparse.ArgumentParser:
    """Flags every subcommand shares: the module object's settings, from its own field declarations."""
    p = argparse.ArgumentParser(add_help=False)
    hints = typing.get_type_hints(RunnerImage, include_extras=True)
    for field in dataclasses.fields(RunnerImage):
        _setting_flag(p, field, hints[field.name])
    return p


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


def _one_image_flags() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--arch", type=str.lower, choices=ARCHES, default=DEFAULT_ARCH, help="architecture")
    p.add_argument("--layout", type=str.lower, choices=LAYOUTS, default=DEFAULT_LAYOUT.value, help="image layout")
    return p


def _arches_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--arch",
        dest="arches",
        action="append",
        type=str.lower,  # as `dagger call` matches enum values, ignoring case
        choices=ARCHES,
        help="architecture, repeatable (default: all)",
    )


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        msg = f"engine timeout {value!r}: expected seconds, more than 0 and at most 3600"
        raise argparse.ArgumentTypeError(msg)
    return seconds


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__.splitlines()[0])
    top.add_argument(
        "--engine-timeout",
        type=positive_seconds,
        default=DEFAULT_ENGINE_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the Dagger engine to answer at the start; default {DEFAULT_ENGINE_TIMEOUT:g}",
    )
    sub = top.add_subparsers(dest="command", required=True)
    shared = [_spec_flags(), _download_flags()]

    b = sub.add_parser("build", parents=[*shared, _one_image_flags()], help="build one image")
    b.add_argument("--export", metavar="PATH", help="write the image as an OCI tarball")
    sub.add_parser("smoke-test", parents=[*shared, _one_image_flags()], help="build and smoke-test one image")
    c = sub.add_parser("ci", parents=shared, help="build and smoke-test both layouts per arch")
    _arches_flag(c)
    pub = sub.add_parser("publish", parents=shared, help="build, test, and push all arches")
    _arches_flag(pub)
    pub.add_argument("--layout", type=str.lower, choices=LAYOUTS, default=DEFAULT_LAYOUT.value)
    pub.add_argument("--address", required=True, help="where to push, e.g. ghcr.io/owner/actions-runner:TAG")
    pub.add_argument("--username", help="registry user")
    pub.add_argument("--password", metavar="env://VAR", help="registry password, as env://VAR or file://PATH")
    # Not the shared flags: their --source (a label) would clash with merge's
    # --source, and merge builds nothing; it checks the runner version only.
    m = sub.add_parser("merge", help="check per-arch images, then tag them as one index")
    m.add_argument("--runner-version", default=RUNNER_VERSION, help="runner version every source must carry")
    m.add_argument("--source", dest="sources", action="append", required=True, help="per-arch image, repeatable")
    m.add_argument("--address", dest="addresses", action="append", required=True, help="release address, repeatable")
    _arches_flag(m)
    m.add_argument("--layout", type=str.lower, choices=LAYOUTS, default=DEFAULT_LAYOUT.value)
    m.add_argument("--username", help="registry user")
    m.add_argument("--password", metavar="env://VAR", help="registry password, as env://VAR or file://PATH")
    # Builds nothing either: it checks an image from a registry (the module also takes a Container).
    k = sub.add_parser("check", help="check an image against what ARC's chart does in each mode")
    k.add_argument("--image", required=True, help="image to check by reference, e.g. ghcr.io/actions/actions-runner")
    k.add_argument(
        "--mode",
        dest="modes",
        action="append",
        type=lambda v: v.lower().replace("_", "-"),  # as `dagger call` matches enum members, ignoring case
        choices=MODES,
        help="chart mode to check, repeatable (default: every mode of the image's layout)",
    )
    k.add_argument("--arch", type=str.lower, choices=ARCHES, default=DEFAULT_ARCH, help="platform to pull")
    k.add_argument("--docker-socket", metavar="PATH", help="a Docker daemon's socket for dind's daemon check")
    k.add_argument("--username", help="registry user, to pull --image")
    k.add_argument("--password", metavar="env://VAR", help="registry password, as env://VAR or file://PATH")
    return top


def check_secret_uri(value: str, *, name: str = "password") -> str:
    """A secret reference (env:// or file://), never the password or token itself."""
    if not isinstance(value, str) or not _SECRET_URI.fullmatch(value):
        msg = (
            f"{name}: expected env://VAR or file://PATH (VAR of A-Z a-z 0-9 _, PATH without spaces), "
            f"never the {name.replace('_', ' ')} itself on the command line; the value given is not shown"
        )
        raise InvalidSpecError(msg)
    return value
