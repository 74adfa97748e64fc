"""The module object's settings: every argument given before the function name, and the RunnerSpecs they make.

RunnerImage (runner_image/main.py) is these settings plus its functions (and those of
runner_image/audits.py, its other base). No `from
__future__ import annotations` here, on purpose: the SDK resolves the
constructor's types in runner_image/main.py's namespace, so the annotations are kept as
the objects themselves rather than as names to look up there.
"""

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import dagger
from dagger import Doc, Name, dag

# The SDK's error for "handled, shown without a traceback" (dagger.mod's
# Module.call re-raises it as is). dagger-io 0.21.8 exports it under no public
# name; a unit test fails if an SDK bump moves it.
from dagger.mod._exceptions import FunctionError

from pipelines.image.build import Archives
from pipelines.network.upstream import github_token
from pipelines.release.tools import Tool, official_tool
from pipelines.shared.contract import Layout
from pipelines.shared.defaults import (
    DOCKER_APT_URL,
    DOCKER_KEY_FINGERPRINT,
    GITHUB_API_URL,
    HOOKS_BASE_URL,
    RUNNER_BASE_URL,
    Arch,
)
from pipelines.shared.errors import EngineError, RunnerImageError, engine_said
from pipelines.shared.pem import valid_certificates
from pipelines.shared.pins import (
    BASE_IMAGE,
    BUILDX_VERSION,
    DOCKER_VERSION,
    HOOKS_NOVOLUME_VERSION,
    HOOKS_VERSION,
    RUNNER_VERSION,
)
from pipelines.shared.reference import parse_reference
from pipelines.shared.spec import RunnerSpec
from pipelines.shared.validators import parse_runner_checksums, valid_base_url, valid_sha256
from runner_image.arguments import DockerAptRepoArg, HooksArchiveArg, NovolumeArchiveArg, RunnerArchiveArg

# Dagger keeps a function's result for up to 7 days and answers a later call with the same
# arguments from it, without running the function. Functions that read or write what moves under
# the same arguments (upstream's newest releases, a registry's tags) opt out, so every call runs:
# `updates` sees a release published since the last call, `publish` pushes what the registry lacks.
EVERY_CALL_RUNS = "never"


@contextmanager
def reported() -> Iterator[None]:
    """Our errors reach `dagger call` as their message alone; anything else keeps its traceback (a bug).

    An engine error no stage turned into its own (one raised outside the
    gathered steps, which name theirs) is still shown as the engine's words
    and the way out, not as the SDK's exception.
    """
    try:
        yield
    except RunnerImageError as e:
        raise FunctionError(str(e)) from e
    except dagger.QueryError as e:
        raise FunctionError(str(EngineError("a step of this call", engine_said(e)))) from e


@dataclasses.dataclass(kw_only=True)
class Settings:
    """What every function of RunnerImage builds from: the object's arguments, each a flag of `dagger call`."""

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

    async def tool(
        self,
        tool: Tool,
        given: dagger.File | None,
        base_url: str,
        sha256: str | None,
        error: type[RunnerImageError],
    ) -> dagger.File:
        """The binary given (--grype, --syft), else the tool's pinned release asset, verified (a plain method)."""
        if given is not None:
            return given
        return await official_tool(
            dag,
            tool,
            base_image=str(parse_reference(self.base_image, name="base_image")),
            base_url=valid_base_url(tool.url_flag.removeprefix("--").replace("-", "_"), base_url),
            api_url=valid_base_url("github_api_url", self.github_api_url),
            sha256=valid_sha256(tool.sum_flag.removeprefix("--").replace("-", "_"), sha256),
            error=error,
        )

    async def specs(self, arches: list[Arch], layouts: list[Layout]) -> list[RunnerSpec]:
        """Every arch's spec in each layout, the CA certificates read once and checked before anything is built."""
        files = self.ca_certificates or []
        names = [await f.name() for f in files]
        pems = valid_certificates([await f.contents() for f in files], names)
        return [self.spec(arch, layout, pems) for arch in arches for layout in layouts]
