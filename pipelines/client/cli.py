"""Client mode: ``python -m pipelines build|smoke-test|ci|publish|merge|check [flags]``.

The same inputs as the Dagger module (``dagger call``), as flags of each
subcommand. Needs only an engine (``dagger.connection``), not the module runtime.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio
import anyio.abc
import dagger
from dagger import dag

from pipelines.audit import check as image_check
from pipelines.client.flags import check_secret_uri, parser
from pipelines.client.session import (
    ENGINE_GONE_EXIT,
    EngineUnreachable,
    engine_gone,
    engine_gone_message,
    engine_session,
    engine_unreachable_message,
)
from pipelines.image.build import Archives, build
from pipelines.network.download import DownloadPolicy, download_policy
from pipelines.network.upstream import github_token
from pipelines.release.merge import merge
from pipelines.release.smoke import smoke_test
from pipelines.release.tested import release, report, verify_all
from pipelines.shared.contract import LAYOUTS, Layout
from pipelines.shared.defaults import (
    ARCHES,
)
from pipelines.shared.errors import InvalidSpecError, RunnerImageError, shown
from pipelines.shared.pem import CA_CERTIFICATE_FLAG, check_certificates
from pipelines.shared.settings import spec_from_settings
from pipelines.shared.spec import RunnerSpec
from pipelines.shared.validators import check_version


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
    return check_certificates(texts, list(paths or ()))


def spec_from_args(
    args: argparse.Namespace, arch: str, layout: str, ca_certificates: tuple[str, ...] = ()
) -> RunnerSpec:
    """A RunnerSpec from parsed flags (pure: no engine)."""
    return spec_from_settings(args, arch=arch, layout=layout, ca_certificates=ca_certificates)


def specs_from_args(args: argparse.Namespace) -> list[RunnerSpec]:
    """Every spec a command builds, in order (no engine; the CA certificates are read and checked here)."""
    arches = getattr(args, "arches", None) or list(ARCHES)
    pems = read_certificates(getattr(args, "ca_certificates", None))
    if args.command in {"build", "smoke-test"}:
        return [spec_from_args(args, args.arch, args.layout, pems)]
    if args.command == "ci":
        return [spec_from_args(args, arch, layout, pems) for arch in arches for layout in LAYOUTS]
    return [spec_from_args(args, arch, args.layout, pems) for arch in arches]


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
            arches=args.arches or list(ARCHES),
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
