"""Client mode: ``python -m pipelines build|smoke-test|ci|publish|merge [flags]``.

The same inputs as the Dagger module (``dagger call``), as flags of each
subcommand. Needs only an engine (``dagger.connection``), not the module runtime.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import anyio
import dagger
from dagger import dag

from pipelines import spec as pins
from pipelines.build import build
from pipelines.errors import InvalidSpecError, RunnerImageError
from pipelines.merge import merge
from pipelines.publish import release
from pipelines.smoke import smoke_test
from pipelines.spec import RunnerSpec, check_version, spec_from_settings
from pipelines.verify import Archives, verify_all

SECRET_SCHEMES = ("env://", "file://")


def _spec_flags() -> argparse.ArgumentParser:
    """Flags every subcommand shares (the module's constructor arguments)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--runner-version", default=pins.RUNNER_VERSION, help="runner version, MAJOR.MINOR.PATCH")
    p.add_argument("--hooks-version", default=pins.HOOKS_VERSION, help="runner-container-hooks version")
    p.add_argument("--base-image", default=pins.BASE_IMAGE, help="base image for both stages")
    p.add_argument("--runner-base-url", default=pins.RUNNER_BASE_URL, help="download base of runner releases")
    p.add_argument("--hooks-base-url", default=pins.HOOKS_BASE_URL, help="download base of hooks releases")
    p.add_argument(
        "--runner-checksum",
        dest="runner_checksums",
        action="append",
        metavar=pins.RUNNER_CHECKSUM_FORM,
        help="SHA-256 of an arch's runner tarball, repeatable (e.g. arm64=<64 hex>)",
    )
    p.add_argument("--hooks-checksum", help="SHA-256 of the k8s hooks zip")
    p.add_argument("--hooks-novolume-checksum", help="SHA-256 of the k8s-novolume hooks zip")
    p.add_argument("--allow-unverified", action="store_true", help="build without known SHA-256s (unsafe)")
    p.add_argument(
        "--novolume-hooks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also ship the k8s-novolume hooks",
    )
    p.add_argument("--source", help="org.opencontainers.image.source label")
    p.add_argument("--revision", help="org.opencontainers.image.revision label")
    p.add_argument("--created", help="org.opencontainers.image.created label (RFC 3339)")
    return p


def _archive_flags() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--runner-archive", metavar="PATH", help="local runner tarball (air-gapped)")
    p.add_argument("--hooks-archive", metavar="PATH", help="local k8s hooks zip (air-gapped)")
    p.add_argument("--hooks-novolume-archive", metavar="PATH", help="local k8s-novolume hooks zip")
    return p


def _one_image_flags() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--arch", choices=pins.ARCHES, default=pins.DEFAULT_ARCH, help="architecture")
    p.add_argument("--layout", choices=pins.LAYOUTS, default=pins.DEFAULT_LAYOUT.value, help="image layout")
    return p


def _arches_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--arch",
        dest="arches",
        action="append",
        choices=pins.ARCHES,
        help="architecture, repeatable (default: all)",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m pipelines", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    shared = [_spec_flags(), _archive_flags()]

    b = sub.add_parser("build", parents=[*shared, _one_image_flags()], help="build one image")
    b.add_argument("--export", metavar="PATH", help="write the image as an OCI tarball")
    sub.add_parser("smoke-test", parents=[*shared, _one_image_flags()], help="build and smoke-test one image")
    c = sub.add_parser("ci", parents=shared, help="build and smoke-test both layouts per arch")
    _arches_flag(c)
    pub = sub.add_parser("publish", parents=[_spec_flags()], help="build, test, and push all arches")
    _arches_flag(pub)
    pub.add_argument("--layout", choices=pins.LAYOUTS, default=pins.DEFAULT_LAYOUT.value)
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
    m.add_argument("--layout", choices=pins.LAYOUTS, default=pins.DEFAULT_LAYOUT.value)
    m.add_argument("--username", help="registry user")
    m.add_argument("--password", metavar="env://VAR", help="registry password, as env://VAR or file://PATH")
    return top


def spec_from_args(args: argparse.Namespace, arch: str, layout: str) -> RunnerSpec:
    """A RunnerSpec from parsed flags (pure: no engine)."""
    return spec_from_settings(args, arch=arch, layout=layout)


def specs_from_args(args: argparse.Namespace) -> list[RunnerSpec]:
    """Every spec a command builds, in order (pure: no engine)."""
    arches = getattr(args, "arches", None) or list(pins.ARCHES)
    if args.command in {"build", "smoke-test"}:
        return [spec_from_args(args, args.arch, args.layout)]
    if args.command == "ci":
        return [spec_from_args(args, arch, layout) for arch in arches for layout in pins.LAYOUTS]
    return [spec_from_args(args, arch, args.layout) for arch in arches]


def check_secret_uri(value: str) -> str:
    """A secret reference (env:// or file://), never the password itself."""
    if not value.startswith(SECRET_SCHEMES):
        msg = "password: expected env://VAR or file://PATH (never the password itself on the command line)"
        raise InvalidSpecError(msg)
    return value


def _archives(client: dagger.Client, args: argparse.Namespace) -> Archives:
    def local(path: str | None) -> dagger.File | None:
        return client.host().file(path) if path else None

    return Archives(
        runner=local(getattr(args, "runner_archive", None)),
        hooks=local(getattr(args, "hooks_archive", None)),
        hooks_novolume=local(getattr(args, "hooks_novolume_archive", None)),
    )


async def run_merge(args: argparse.Namespace, password: str | None) -> str:
    """The merge subcommand: it builds nothing, so it needs no spec, only the runner version to expect."""
    runner_version = check_version("runner_version", args.runner_version)
    async with dagger.connection(dagger.Config(log_output=sys.stderr)):
        return await merge(
            dag,
            args.sources,
            args.addresses,
            arches=args.arches or list(pins.ARCHES),
            layout=pins.Layout(args.layout),
            runner_version=runner_version,
            username=args.username,
            password=dag.secret(password) if password else None,
        )


async def run(args: argparse.Namespace) -> str:
    """Carry out one parsed command against an engine; return what to print."""
    password = check_secret_uri(args.password) if getattr(args, "password", None) else None
    if args.command == "merge":
        return await run_merge(args, password)
    specs = specs_from_args(args)
    async with dagger.connection(dagger.Config(log_output=sys.stderr)):
        if args.command == "publish":
            secret = dag.secret(password) if password else None
            return await release(dag, specs, args.address, args.username, secret)
        archives = _archives(dag, args)
        if args.command == "ci":
            results = await verify_all(dag, specs, archives)
            return "\n".join(f"{v.spec.name}: ok, runner {v.version}" for v in results)
        spec = specs[0]
        ctr = await build(dag, spec, archives.runner, archives.hooks, archives.hooks_novolume)
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
    return 0
