"""Client mode's flags: one argparse subcommand per module function, the object's settings as flags of each."""

from __future__ import annotations

import argparse
import re

from pipelines.audit.chart import MODES
from pipelines.client.session import (
    DEFAULT_ENGINE_TIMEOUT,
)
from pipelines.network.download import DownloadPolicy
from pipelines.shared.contract import DEFAULT_LAYOUT, LAYOUTS
from pipelines.shared.defaults import (
    ARCHES,
    BASE_IMAGE,
    BUILDX_VERSION,
    DEFAULT_ARCH,
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
from pipelines.shared.errors import InvalidSpecError
from pipelines.shared.settings import RUNNER_CHECKSUM_FORM

# env://NAME (a POSIX variable name) or file://PATH (visible ASCII, no spaces).
# Whatever follows the scheme is never echoed: it may be the password itself.
_SECRET_URI = re.compile(r"env://[A-Za-z_][A-Za-z0-9_]{0,254}|file://[!-~]{1,4096}")


def _spec_flags() -> argparse.ArgumentParser:
    """Flags every subcommand shares (the module's constructor arguments)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--runner-version", default=RUNNER_VERSION, help="runner version, MAJOR.MINOR.PATCH")
    p.add_argument("--hooks-version", default=HOOKS_VERSION, help="runner-container-hooks release for k8s/")
    p.add_argument(
        "--hooks-novolume-version",
        default=HOOKS_NOVOLUME_VERSION,
        help="runner-container-hooks release (0.8.0+) whose k8s zip fills k8s-novolume/",
    )
    p.add_argument("--base-image", default=BASE_IMAGE, help="base image for both stages")
    p.add_argument("--runner-base-url", default=RUNNER_BASE_URL, help="download base of runner releases")
    p.add_argument("--hooks-base-url", default=HOOKS_BASE_URL, help="download base of hooks releases")
    p.add_argument(
        "--github-api-url", default=GITHUB_API_URL, help="GitHub's REST API, asked for a release's published sums"
    )
    p.add_argument(
        "--github-token",
        metavar="env://VAR",
        help="token for every GitHub API read, as env://VAR or file://PATH (anonymous: 60 requests an hour per IP)",
    )
    p.add_argument(
        "--runner-checksum",
        dest="runner_checksums",
        action="append",
        metavar=RUNNER_CHECKSUM_FORM,
        help="SHA-256 of an arch's runner tarball, repeatable (e.g. arm64=<64 hex>)",
    )
    p.add_argument("--hooks-checksum", help="SHA-256 of the k8s/ hooks zip")
    p.add_argument("--hooks-novolume-checksum", help="SHA-256 of the k8s-novolume/ hooks zip")
    p.add_argument("--allow-unverified", action="store_true", help="build without known SHA-256s (unsafe)")
    p.add_argument(
        "--novolume-hooks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also ship k8s-novolume/ (kubernetes-novolume mode)",
    )
    p.add_argument(
        "--docker-cli",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="install Docker's CLI and buildx plugin in the hosted layout (dind mode; --no-docker-cli leaves them out)",
    )
    p.add_argument("--docker-version", default=DOCKER_VERSION, help="docker-ce-cli version")
    p.add_argument("--buildx-version", default=BUILDX_VERSION, help="docker-buildx-plugin version")
    p.add_argument("--docker-apt-url", default=DOCKER_APT_URL, help="Docker's apt repositories")
    p.add_argument("--docker-key-fingerprint", default=DOCKER_KEY_FINGERPRINT, help="the key apt may trust for them")
    p.add_argument(
        "--extra-package",
        dest="extra_packages",
        action="append",
        metavar="NAME[=VERSION]",
        help="apt package of the base's distribution to add, repeatable (apt verifies it)",
    )
    p.add_argument(
        "--ca-certificate",
        dest="ca_certificates",
        action="append",
        metavar="PATH",
        help="PEM CA certificate (one CERTIFICATE block) to add to the image's system trust store, repeatable",
    )
    p.add_argument("--source-url", help="org.opencontainers.image.source label: the repository's URL")
    p.add_argument("--revision", help="org.opencontainers.image.revision label")
    p.add_argument("--created", help="org.opencontainers.image.created label (RFC 3339)")
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


def _archive_flags() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--runner-archive", metavar="PATH", help="local runner tarball (air-gapped)")
    p.add_argument("--hooks-archive", metavar="PATH", help="local k8s hooks zip for k8s/ (air-gapped)")
    p.add_argument("--hooks-novolume-archive", metavar="PATH", help="local k8s hooks zip for k8s-novolume/")
    p.add_argument(
        "--docker-apt-repo", metavar="DIR", help="local copy of Docker's apt repository, for --docker-cli (air-gapped)"
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
    shared = [_spec_flags(), _download_flags(), _archive_flags()]

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
