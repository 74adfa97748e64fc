"""Client mode: ``python -m pipelines build|smoke-test|ci|publish|merge|check [flags]``.

The same inputs as the Dagger module (``dagger call``), as flags of each
subcommand. Needs only an engine (``dagger.connection``), not the module runtime.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio
import anyio.abc
import dagger
from dagger import dag

from pipelines import check as image_check
from pipelines import spec as pins
from pipelines.build import build
from pipelines.chart import MODES
from pipelines.contract import DEFAULT_LAYOUT, LAYOUTS, Layout
from pipelines.download import DownloadPolicy, download_policy
from pipelines.errors import InvalidSpecError, RunnerImageError, shown
from pipelines.merge import merge
from pipelines.publish import release
from pipelines.smoke import smoke_test
from pipelines.spec import RunnerSpec, check_version, spec_from_settings
from pipelines.upstream import github_token
from pipelines.verify import Archives, report, verify_all

# env://NAME (a POSIX variable name) or file://PATH (visible ASCII, no spaces).
# Whatever follows the scheme is never echoed: it may be the password itself.
_SECRET_URI = re.compile(r"env://[A-Za-z_][A-Za-z0-9_]{0,254}|file://[!-~]{1,4096}")


def _spec_flags() -> argparse.ArgumentParser:
    """Flags every subcommand shares (the module's constructor arguments)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--runner-version", default=pins.RUNNER_VERSION, help="runner version, MAJOR.MINOR.PATCH")
    p.add_argument("--hooks-version", default=pins.HOOKS_VERSION, help="runner-container-hooks release for k8s/")
    p.add_argument(
        "--hooks-novolume-version",
        default=pins.HOOKS_NOVOLUME_VERSION,
        help="runner-container-hooks release (0.8.0+) whose k8s zip fills k8s-novolume/",
    )
    p.add_argument("--base-image", default=pins.BASE_IMAGE, help="base image for both stages")
    p.add_argument("--runner-base-url", default=pins.RUNNER_BASE_URL, help="download base of runner releases")
    p.add_argument("--hooks-base-url", default=pins.HOOKS_BASE_URL, help="download base of hooks releases")
    p.add_argument(
        "--github-api-url", default=pins.GITHUB_API_URL, help="GitHub's REST API, asked for a release's published sums"
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
        metavar=pins.RUNNER_CHECKSUM_FORM,
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
    p.add_argument("--docker-version", default=pins.DOCKER_VERSION, help="docker-ce-cli version")
    p.add_argument("--buildx-version", default=pins.BUILDX_VERSION, help="docker-buildx-plugin version")
    p.add_argument("--docker-apt-url", default=pins.DOCKER_APT_URL, help="Docker's apt repositories")
    p.add_argument(
        "--docker-key-fingerprint", default=pins.DOCKER_KEY_FINGERPRINT, help="the key apt may trust for them"
    )
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
    """How hard to try each download (client mode only; see pipelines.download)."""
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
    p.add_argument("--arch", type=str.lower, choices=pins.ARCHES, default=pins.DEFAULT_ARCH, help="architecture")
    p.add_argument("--layout", type=str.lower, choices=LAYOUTS, default=DEFAULT_LAYOUT.value, help="image layout")
    return p


def _arches_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--arch",
        dest="arches",
        action="append",
        type=str.lower,  # as `dagger call` matches enum values, ignoring case
        choices=pins.ARCHES,
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
    m.add_argument("--runner-version", default=pins.RUNNER_VERSION, help="runner version every source must carry")
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
    k.add_argument("--arch", type=str.lower, choices=pins.ARCHES, default=pins.DEFAULT_ARCH, help="platform to pull")
    k.add_argument("--docker-socket", metavar="PATH", help="a Docker daemon's socket for dind's daemon check")
    k.add_argument("--username", help="registry user, to pull --image")
    k.add_argument("--password", metavar="env://VAR", help="registry password, as env://VAR or file://PATH")
    return top


def read_certificates(paths: Sequence[str] | None) -> tuple[str, ...]:
    """The --ca-certificate files' PEM texts, checked; a file that cannot be read is refused by its path."""
    texts = []
    for index, path in enumerate(paths or (), start=1):
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            msg = f"{pins.CA_CERTIFICATE_FLAG} #{index} {shown(path)}: expected a readable file, found {e.strerror}"
            raise InvalidSpecError(msg) from None
        texts.append(data.decode("utf-8", errors="replace"))  # a binary (DER) file is refused as such
    return pins.check_certificates(texts, list(paths or ()))


def spec_from_args(
    args: argparse.Namespace, arch: str, layout: str, ca_certificates: tuple[str, ...] = ()
) -> RunnerSpec:
    """A RunnerSpec from parsed flags (pure: no engine)."""
    return spec_from_settings(args, arch=arch, layout=layout, ca_certificates=ca_certificates)


def specs_from_args(args: argparse.Namespace) -> list[RunnerSpec]:
    """Every spec a command builds, in order (no engine; the CA certificates are read and checked here)."""
    arches = getattr(args, "arches", None) or list(pins.ARCHES)
    pems = read_certificates(getattr(args, "ca_certificates", None))
    if args.command in {"build", "smoke-test"}:
        return [spec_from_args(args, args.arch, args.layout, pems)]
    if args.command == "ci":
        return [spec_from_args(args, arch, layout, pems) for arch in arches for layout in LAYOUTS]
    return [spec_from_args(args, arch, args.layout, pems) for arch in arches]


DEFAULT_ENGINE_TIMEOUT = 60.0  # seconds to reach the engine before giving up (dagger's own wait is ~10 minutes)


class EngineUnreachable(Exception):  # noqa: N818 - reads as what happened
    """No engine session could be opened within the time limit."""


@contextlib.asynccontextmanager
async def engine_session(connect_within: float) -> AsyncIterator[None]:
    """A Dagger session whose start (the CLI reaching its engine) must finish within connect_within seconds.

    The SDK starts `dagger session` itself and waits for it in a worker thread
    that cannot be cancelled, and the CLI waits about 10 minutes for an absent
    engine. So when a CLI is at hand (_EXPERIMENTAL_DAGGER_CLI_BIN or `dagger`
    on PATH), the session is started here, as the SDK would, and the SDK is
    pointed at it (DAGGER_SESSION_PORT/TOKEN, as `dagger run` does). Under
    `dagger run`, or with no CLI at hand (the SDK then downloads its own), the
    SDK connects as usual.
    """
    cli = os.environ.get("_EXPERIMENTAL_DAGGER_CLI_BIN") or shutil.which("dagger")
    if os.environ.get("DAGGER_SESSION_PORT") or cli is None:
        async with dagger.connection(dagger.Config(log_output=sys.stderr)):
            yield
        return
    command = [cli, "session", "--label", "dagger.io/sdk.name:python"]
    async with await anyio.open_process(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr
    ) as proc:
        try:
            with anyio.fail_after(connect_within):
                params = await _session_params(proc)
        except TimeoutError:
            proc.kill()
            raise EngineUnreachable(connect_within) from None
        session = {"DAGGER_SESSION_PORT": str(params["port"]), "DAGGER_SESSION_TOKEN": str(params["session_token"])}
        saved = {key: os.environ.get(key) for key in session}
        os.environ.update(session)
        try:
            async with dagger.connection(dagger.Config(log_output=sys.stderr)):
                yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            if proc.stdin is not None:
                await proc.stdin.aclose()  # the CLI ends its session when its stdin closes
            with anyio.move_on_after(30):
                await proc.wait()


async def _session_params(proc: anyio.abc.Process) -> dict[str, object]:
    """The first line `dagger session` prints: {"port": ..., "session_token": ...}."""
    assert proc.stdout is not None  # noqa: S101 - opened with a pipe above
    buffered = b""
    async for chunk in proc.stdout:
        buffered += chunk
        if b"\n" in buffered:
            break
    try:
        params = json.loads(buffered.split(b"\n", 1)[0])
    except ValueError:
        params = None
    if not isinstance(params, dict) or "port" not in params or "session_token" not in params:
        await proc.wait()
        why = f"dagger session exited with code {proc.returncode}"
        raise EngineUnreachable(why)
    return params


def engine_unreachable_message(timeout: float, error: EngineUnreachable) -> str:
    runner = os.environ.get("_EXPERIMENTAL_DAGGER_RUNNER_HOST")
    where = f"at _EXPERIMENTAL_DAGGER_RUNNER_HOST={runner}" if runner else "(the dagger CLI's default engine)"
    how = f" ({error.args[0]}; its own error is above)" if error.args and isinstance(error.args[0], str) else ""
    return (
        f"error: engine: expected a Dagger engine to answer within {timeout:g} s (--engine-timeout), "
        f"found none {where}{how}. Check that it runs (`dagger core version`, or the engine container in "
        "`docker ps`) and that the address is right, or raise --engine-timeout for a slow first start"
    )


def check_secret_uri(value: str, *, name: str = "password") -> str:
    """A secret reference (env:// or file://), never the password or token itself."""
    if not isinstance(value, str) or not _SECRET_URI.fullmatch(value):
        msg = (
            f"{name}: expected env://VAR or file://PATH (VAR of A-Z a-z 0-9 _, PATH without spaces), "
            f"never the {name.replace('_', ' ')} itself on the command line; the value given is not shown"
        )
        raise InvalidSpecError(msg)
    return value


def _archives(client: dagger.Client, args: argparse.Namespace) -> Archives:
    def local(path: str | None) -> dagger.File | None:
        return client.host().file(path) if path else None

    apt_repo = getattr(args, "docker_apt_repo", None)

    return Archives(
        runner=local(getattr(args, "runner_archive", None)),
        hooks=local(getattr(args, "hooks_archive", None)),
        hooks_novolume=local(getattr(args, "hooks_novolume_archive", None)),
        docker_apt_repo=client.host().directory(apt_repo) if apt_repo else None,
    )


async def run_merge(args: argparse.Namespace, password: str | None) -> str:
    """The merge subcommand: it builds nothing, so it needs no spec, only the runner version to expect."""
    runner_version = check_version("runner_version", args.runner_version)
    async with engine_session(args.engine_timeout):
        return await merge(
            dag,
            args.sources,
            args.addresses,
            arches=args.arches or list(pins.ARCHES),
            layout=Layout(args.layout),
            runner_version=runner_version,
            username=args.username,
            password=dag.secret(password) if password else None,
        )


async def run_check(args: argparse.Namespace, password: str | None) -> str:
    """The check subcommand: one image from a registry, the modes asked (default: its layout's)."""
    async with engine_session(args.engine_timeout):
        socket = dag.host().unix_socket(args.docker_socket) if args.docker_socket else None
        return await image_check.check(
            dag,
            image=args.image,
            modes=args.modes,
            arch=args.arch,
            docker_socket=socket,
            username=args.username,
            password=dag.secret(password) if password else None,
        )


async def run(args: argparse.Namespace) -> str:
    """Carry out one parsed command against an engine; return what to print."""
    password = check_secret_uri(args.password) if getattr(args, "password", None) else None
    if args.command == "merge":
        return await run_merge(args, password)
    if args.command == "check":
        return await run_check(args, password)
    policy = DownloadPolicy(attempts=args.download_attempts, timeout=args.download_timeout)
    with download_policy(policy):
        return await _run(args, specs_from_args(args), password)


async def _run(args: argparse.Namespace, specs: list[RunnerSpec], password: str | None) -> str:
    token = check_secret_uri(args.github_token, name="github_token") if args.github_token else None
    async with engine_session(args.engine_timeout):
        with github_token(dag.secret(token) if token else None):
            return await _run_in_session(args, specs, password)


async def _run_in_session(args: argparse.Namespace, specs: list[RunnerSpec], password: str | None) -> str:
    archives = _archives(dag, args)
    if args.command == "publish":
        secret = dag.secret(password) if password else None
        return await release(dag, specs, args.address, args.username, secret, archives)
    if args.command == "ci":
        return report(await verify_all(dag, specs, archives))
    spec = specs[0]
    ctr = await build(dag, spec, archives)
    if args.command == "smoke-test":
        return await smoke_test(ctr, spec)
    if args.export:
        return await ctr.export(args.export)
    await ctr.sync()
    return f"built {spec.name} ({spec.platform})"


# The client's own transport to the engine: when one of these ends a run, the
# engine (or the connection to it) went away; it says nothing about the inputs.
ENGINE_GONE_EXIT = 3
_CLIENT_ERRORS = (dagger.ClientConnectionError, dagger.TransportError, dagger.ProvisionError)
_TRANSPORT_LIBRARIES = frozenset({"gql", "httpx", "httpcore", "tenacity"})  # the SDK's HTTP client and retries


def engine_gone(error: BaseException) -> BaseException | None:
    """The failure of the connection to the engine inside error (or its exception group), if any."""
    if isinstance(error, BaseExceptionGroup):
        found = (engine_gone(e) for e in error.exceptions)
        return next((e for e in found if e is not None), None)
    if isinstance(error, _CLIENT_ERRORS) or type(error).__module__.split(".")[0] in _TRANSPORT_LIBRARIES:
        return error
    return None


def engine_gone_message(error: BaseException) -> str:
    detail = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
    return (
        f"error: engine: lost the connection to the Dagger engine ({type(error).__name__}"
        f"{': ' + detail if detail else ''}). Expected the engine to run until the command ends; "
        "it stopped, restarted or became unreachable mid-run. Check that it runs "
        "(`dagger core version`, or the engine container in `docker ps`), then run the same command "
        "again: finished steps come back from the engine's cache, and a publish that printed no "
        "digest may be repeated safely"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(anyio.run(run, args))
    except RunnerImageError as e:
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
