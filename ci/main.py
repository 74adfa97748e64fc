"""The Dagger module's one object; each function builds RunnerSpecs and calls pipelines."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import dagger
from dagger import Doc, Name, dag

# The SDK's error for "handled, shown without a traceback" (dagger.mod's
# Module.call re-raises it as is). dagger-io 0.21.8 exports it under no public
# name; a unit test fails if an SDK bump moves it.
from dagger.mod._exceptions import FunctionError

from pipelines.audit import check as image_check
from pipelines.audit.chart import Mode
from pipelines.current import updates as upstream_updates
from pipelines.image.build import Archives, build
from pipelines.network.checksums import resolve_checksums
from pipelines.network.upstream import github_token
from pipelines.release.merge import merge
from pipelines.release.sbom import SBOM_NAME, sbom
from pipelines.release.smoke import smoke_test
from pipelines.release.tested import release, report, verify_all
from pipelines.shared.contract import Layout
from pipelines.shared.defaults import (
    BASE_IMAGE,
    BUILDX_VERSION,
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
from pipelines.shared.errors import RunnerImageError
from pipelines.shared.pem import check_certificates
from pipelines.shared.pins import PINS_FILE, PINS_PATH
from pipelines.shared.pins import parse as parse_pins
from pipelines.shared.reference import parse_reference
from pipelines.shared.spec import RunnerSpec
from pipelines.shared.validators import check_base_url, check_version, parse_runner_checksums


# Member names are what `dagger call` matches flag values against, ignoring
# case. The engine keeps a name made of capitals and digits as it is, and
# turns any other into SCREAMING_SNAKE_CASE (`amd64` would become AMD_64, and
# `--arch amd64` would be refused), so members are named AMD64, not amd64.
@dagger.enum_type
class Arch(enum.Enum):
    """CPU architecture of the image, in Docker/OCI names."""

    AMD64 = "amd64"
    """x86-64 (the runner's asset says x64)."""

    ARM64 = "arm64"
    """64-bit ARM."""


# Argument types used by more than one function, each documented once.
ArchArg = Annotated[Arch, Doc("Architecture to build")]
ArchesArg = Annotated[list[Arch] | None, Name("arch"), Doc("Architectures to build, repeatable (default: all)")]
LayoutArg = Annotated[Layout, Doc("Image layout: hosted (GitHub-hosted parity) or minimal")]
RunnerArchiveArg = Annotated[dagger.File | None, Doc("Local runner tarball to use instead of downloading (air-gapped)")]
HooksArchiveArg = Annotated[
    dagger.File | None, Doc("Local k8s hooks zip of --hooks-version, for k8s/, instead of downloading (air-gapped)")
]
DockerAptRepoArg = Annotated[
    dagger.Directory | None,
    Doc("Local copy of Docker's apt repository (<os id>/gpg, dists/, pool/) for --docker-cli, instead of the URL"),
]
HoldsArg = Annotated[
    list[str] | None,
    Name("hold"),
    Doc("Keep a pin on a version prefix, PIN=PREFIX (hooks=0.7, hooks_novolume=); repeatable (default: pins.toml's)"),
]
PinsFileArg = Annotated[
    dagger.File | None, Doc("A pins.toml to compare and rewrite (default: this module's pipelines/pins.toml)")
]
NovolumeArchiveArg = Annotated[
    dagger.File | None,
    Doc("Local k8s hooks zip of --hooks-novolume-version, for k8s-novolume/, instead of downloading (air-gapped)"),
]


@contextmanager
def reported() -> Iterator[None]:
    """Our errors reach `dagger call` as their message alone; anything else keeps its traceback (a bug)."""
    try:
        yield
    except RunnerImageError as e:
        raise FunctionError(str(e)) from e


@dagger.object_type
class RunnerImage:
    """The actions-runner image for ARC: build, smoke-test, publish."""

    runner_version: Annotated[str, Doc("Runner version, MAJOR.MINOR.PATCH")] = RUNNER_VERSION
    hooks_version: Annotated[str, Doc("runner-container-hooks release unpacked into k8s/ (kubernetes mode)")] = (
        HOOKS_VERSION
    )
    hooks_novolume_version: Annotated[
        str, Doc("runner-container-hooks release (0.8.0+) whose k8s zip is unpacked into k8s-novolume/")
    ] = HOOKS_NOVOLUME_VERSION
    base_image: Annotated[str, Doc("Base image for both stages")] = BASE_IMAGE
    runner_base_url: Annotated[str, Doc("Download base of runner releases (a mirror works)")] = RUNNER_BASE_URL
    hooks_base_url: Annotated[str, Doc("Download base of hooks releases (a mirror works)")] = HOOKS_BASE_URL
    github_api_url: Annotated[
        str, Doc("GitHub's REST API: published sums of a release, and what updates/bump read (a mirror works)")
    ] = GITHUB_API_URL
    github_token: Annotated[
        dagger.Secret | None,
        Doc("Token for every GitHub API read, e.g. env://GITHUB_TOKEN (anonymous: 60 requests an hour per IP)"),
    ] = None
    runner_checksums: Annotated[
        list[str] | None,
        Name("runner_checksum"),
        Doc("SHA-256 of an arch's runner tarball as ARCH=SHA256, repeatable (default: pinned, else published)"),
    ] = None
    hooks_checksum: Annotated[str | None, Doc("SHA-256 of the k8s/ hooks zip (default: pinned, else published)")] = None
    hooks_novolume_checksum: Annotated[
        str | None, Doc("SHA-256 of the k8s-novolume/ hooks zip (default: pinned, else published)")
    ] = None
    allow_unverified: Annotated[bool, Doc("Build even when a SHA-256 is unknown, and skip checking it (unsafe)")] = (
        False
    )
    novolume_hooks: Annotated[bool, Doc("Also ship k8s-novolume/ (kubernetes-novolume mode)")] = True
    docker_cli: Annotated[
        bool, Doc("Install Docker's CLI and buildx plugin in the hosted layout (dind mode), verified by apt")
    ] = True
    docker_version: Annotated[str, Doc("docker-ce-cli version (Docker's apt repository)")] = DOCKER_VERSION
    buildx_version: Annotated[str, Doc("docker-buildx-plugin version (Docker's apt repository)")] = BUILDX_VERSION
    docker_apt_url: Annotated[str, Doc("Docker's apt repositories, <url>/<os id>/ (a mirror works)")] = DOCKER_APT_URL
    docker_key_fingerprint: Annotated[str, Doc("Fingerprint of the only key apt may trust for Docker's repository")] = (
        DOCKER_KEY_FINGERPRINT
    )
    extra_packages: Annotated[
        list[str] | None,
        Name("extra_package"),
        Doc("apt package of the base's distribution to add, NAME or NAME=VERSION; repeatable (apt verifies it)"),
    ] = None
    ca_certificates: Annotated[
        list[dagger.File] | None,
        Name("ca_certificate"),
        Doc("PEM CA certificate (one CERTIFICATE block) to add to the image's system trust store; repeatable"),
    ] = None
    runner_archive: RunnerArchiveArg = None
    hooks_archive: HooksArchiveArg = None
    hooks_novolume_archive: NovolumeArchiveArg = None
    docker_apt_repo: DockerAptRepoArg = None
    source_url: Annotated[str | None, Doc("org.opencontainers.image.source label: the repository's URL")] = None
    revision: Annotated[str | None, Doc("org.opencontainers.image.revision label")] = None
    created: Annotated[str | None, Doc("org.opencontainers.image.created label (RFC 3339)")] = None

    @contextmanager
    def handled(self) -> Iterator[None]:
        """Around every function's body: our errors shown as messages, the GitHub token for API reads."""
        with reported(), github_token(self.github_token):
            yield

    def archives(self) -> Archives:
        """The local inputs that replace downloads (a plain method, not exposed)."""
        return Archives(
            runner=self.runner_archive,
            hooks=self.hooks_archive,
            hooks_novolume=self.hooks_novolume_archive,
            docker_apt_repo=self.docker_apt_repo,
        )

    def spec(self, arch: Arch, layout: Layout, ca_certificates: tuple[str, ...] = ()) -> RunnerSpec:
        """The RunnerSpec for one arch and layout (a plain method, not exposed): where each setting goes.

        The sums are "checksum" here: `dagger call` spells a name's digits as
        words of their own (runner_sha256 would be --runner-sha-256), so no
        flag has digits. The CA certificates are the PEM texts specs() read.
        """
        return RunnerSpec(
            arch=arch.value,
            layout=layout.value,
            runner_version=self.runner_version,
            hooks_version=self.hooks_version,
            hooks_novolume_version=self.hooks_novolume_version,
            base_image=self.base_image,
            runner_base_url=self.runner_base_url,
            hooks_base_url=self.hooks_base_url,
            github_api_url=self.github_api_url,
            runner_sha256=parse_runner_checksums(self.runner_checksums).get(arch.value),
            hooks_sha256=self.hooks_checksum,
            hooks_novolume_sha256=self.hooks_novolume_checksum,
            allow_unverified=self.allow_unverified,
            novolume_hooks=self.novolume_hooks,
            docker_cli=self.docker_cli,
            docker_version=self.docker_version,
            buildx_version=self.buildx_version,
            docker_apt_url=self.docker_apt_url,
            docker_key_fingerprint=self.docker_key_fingerprint,
            extra_packages=self.extra_packages,
            ca_certificates=tuple(ca_certificates),
            source=self.source_url,
            revision=self.revision,
            created=self.created,
        )

    async def specs(self, arches: list[Arch], layouts: list[Layout]) -> list[RunnerSpec]:
        """Every arch's spec in each layout, the CA certificates read once and checked before anything is built."""
        files = self.ca_certificates or []
        names = [await f.name() for f in files]
        pems = check_certificates([await f.contents() for f in files], names)
        return [self.spec(arch, layout, pems) for arch in arches for layout in layouts]

    @dagger.function
    async def build(
        self,
        arch: ArchArg = Arch.AMD64,
        layout: LayoutArg = Layout.HOSTED,
    ) -> dagger.Container:
        """Build the runner image for one arch and layout (downloads verified first)."""
        with self.handled():
            (spec,) = await self.specs([arch], [layout])
            return await build(dag, spec, self.archives())

    @dagger.function
    async def smoke_test(
        self,
        arch: ArchArg = Arch.AMD64,
        layout: LayoutArg = Layout.HOSTED,
    ) -> str:
        """Build, then run run.sh --version as the image user; return the version it printed."""
        with self.handled():
            (spec,) = await self.specs([arch], [layout])
            ctr = await build(dag, spec, self.archives())
            return await smoke_test(ctr, spec)

    @dagger.function
    async def sbom(
        self,
        syft: Annotated[
            dagger.File,
            Doc("A static syft binary for the engine's platform (CGO_ENABLED=0 go install .../syft/cmd/syft@v1.57.1)"),
        ],
        arch: ArchArg = Arch.AMD64,
        layout: LayoutArg = Layout.HOSTED,
    ) -> dagger.File:
        """Build one image; return its SPDX JSON SBOM made by syft, with the runner and hooks added."""
        with self.handled():
            (one,) = await self.specs([arch], [layout])
            spec = await resolve_checksums(dag, one)
            ctr = await build(dag, spec, self.archives())
            text = await sbom(dag, spec, ctr, syft)
            return dag.directory().with_new_file(SBOM_NAME, text).file(SBOM_NAME)

    @dagger.function
    async def ci(
        self,
        arches: ArchesArg = None,
    ) -> str:
        """Build and smoke-test both layouts for each arch, concurrently; return a report."""
        with self.handled():
            specs = await self.specs(arches or list(Arch), list(Layout))
            return report(await verify_all(dag, specs, self.archives()))

    @dagger.function
    async def check(
        self,
        image: Annotated[
            str | None, Doc("Image to check by reference, e.g. ghcr.io/actions/actions-runner:latest (or --container)")
        ] = None,
        container: Annotated[
            dagger.Container | None,
            Doc("Image to check as a Container (dagger shell: check --container $(build))"),
        ] = None,
        modes: Annotated[
            list[Mode] | None,
            Name("mode"),
            Doc("Chart mode to check, repeatable (default: every mode of the image's layout)"),
        ] = None,
        arch: Annotated[Arch, Doc("Platform to pull --image for")] = Arch.AMD64,
        docker_socket: Annotated[
            dagger.Socket | None,
            Doc("A Docker daemon's socket for dind's daemon check, e.g. /var/run/docker.sock"),
        ] = None,
        username: Annotated[str | None, Doc("Registry user, to pull --image")] = None,
        password: Annotated[dagger.Secret | None, Doc("Registry password or token, to pull --image")] = None,
    ) -> str:
        """Check an image against what ARC's chart does in each mode; a table, failing if any check fails."""
        with self.handled():
            return await image_check.check(
                dag,
                image=image,
                container=container,
                modes=modes,
                arch=arch.value,
                docker_socket=docker_socket,
                username=username,
                password=password,
            )

    @dagger.function
    async def merge(
        self,
        sources: Annotated[
            list[str],
            Name("source"),
            Doc("A per-arch image pushed by publish --arch <one>, by tag or digest; repeatable, one per arch"),
        ],
        addresses: Annotated[
            list[str],
            Name("address"),
            Doc("Release address to tag the index with, e.g. ghcr.io/owner/actions-runner:2.337.0; repeatable"),
        ],
        arches: Annotated[
            list[Arch] | None, Name("arch"), Doc("Architectures the index must hold, repeatable (default: all)")
        ] = None,
        layout: Annotated[Layout, Doc("Layout every source must carry in its dev.runner-image.layout label")] = (
            Layout.HOSTED
        ),
        username: Annotated[str | None, Doc("Registry user")] = None,
        password: Annotated[dagger.Secret | None, Doc("Registry password or token")] = None,
    ) -> str:
        """Check per-arch images (platform, layout, runner version); only if all fit, tag one index: ref@digest."""
        with self.handled():
            return await merge(
                dag,
                sources,
                addresses,
                arches=[a.value for a in arches or list(Arch)],
                layout=layout,
                runner_version=check_version("runner_version", self.runner_version),
                username=username,
                password=password,
            )

    @dagger.function
    async def publish(
        self,
        address: Annotated[str, Doc("Where to push, e.g. ghcr.io/owner/actions-runner:2.337.0")],
        arches: ArchesArg = None,
        layout: LayoutArg = Layout.HOSTED,
        username: Annotated[str | None, Doc("Registry user")] = None,
        password: Annotated[dagger.Secret | None, Doc("Registry password or token")] = None,
    ) -> str:
        """Build and smoke-test every arch; only if all pass, push one image. Returns ref@digest."""
        with self.handled():
            specs = await self.specs(arches or list(Arch), [layout])
            return await release(dag, specs, address, username, password, self.archives())

    @dagger.function
    async def updates(
        self,
        fail_within: Annotated[
            int | None, Doc("Fail when the pinned runner has fewer days left before GitHub stops sending it jobs")
        ] = None,
        holds: HoldsArg = None,
        pins_file: PinsFileArg = None,
    ) -> str:
        """Read-only: each pin of pipelines/pins.toml against upstream's newest, with both sums and the deadline."""
        with self.handled():
            _, rows = await self.upstream_rows(holds, pins_file)
            upstream_updates.check_deadline(rows, fail_within)
            return upstream_updates.render(rows)

    @dagger.function
    async def bump(self, holds: HoldsArg = None, pins_file: PinsFileArg = None) -> dagger.File:
        """pipelines/pins.toml rewritten with every update that updates can vouch for (export it over the file)."""
        with self.handled():
            text, rows = await self.upstream_rows(holds, pins_file)
            bumped = upstream_updates.bumped(text, rows)
            return dag.directory().with_new_file(PINS_FILE.name, bumped).file(PINS_FILE.name)

    async def upstream_rows(
        self, holds: list[str] | None, pins_file: dagger.File | None
    ) -> tuple[str, list[upstream_updates.Row]]:
        """The pins text and the rows of updates and bump (a plain method, not exposed)."""
        text = await pins_file.contents() if pins_file else PINS_FILE.read_text(encoding="utf-8")
        pinned = parse_pins(text, where="the file given as --pins-file" if pins_file else PINS_PATH)
        sources = upstream_updates.Sources(
            github_api_url=check_base_url("github_api_url", self.github_api_url),
            docker_apt_url=check_base_url("docker_apt_url", self.docker_apt_url),
            holds=upstream_updates.holds(pinned, holds),
        )
        # The base is read where the build reads it (--base-image); bump never rewrites it.
        pinned = dataclasses.replace(pinned, base_image=str(parse_reference(self.base_image, name="base_image")))
        now = datetime.datetime.now(tz=datetime.UTC)
        return text, await upstream_updates.look_up(dag, pinned, sources, now=now)
