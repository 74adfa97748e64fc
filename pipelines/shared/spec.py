"""What to build: one RunnerSpec per arch and layout, validated on construction.

Its defaults are pipelines.shared.pins (the versions and the base) and
pipelines.shared.defaults (the rest), its checks pipelines.shared.validators
and pipelines.shared.pem.
"""

from __future__ import annotations

import dataclasses

from pipelines.shared.contract import CONTRACTS, DEFAULT_LAYOUT, ImageContract, Layout, parse_layout
from pipelines.shared.defaults import (
    DEFAULT_ARCH,
    DOCKER_APT_URL,
    DOCKER_KEY_FINGERPRINT,
    GITHUB_API_URL,
    HOOKS_BASE_URL,
    RUNNER_ARCH,
    RUNNER_BASE_URL,
)
from pipelines.shared.pem import certificate_fingerprint, valid_certificates
from pipelines.shared.pins import (
    BASE_IMAGE,
    BUILDX_VERSION,
    DOCKER_VERSION,
    HOOKS_NOVOLUME_VERSION,
    HOOKS_VERSION,
    RUNNER_VERSION,
)
from pipelines.shared.reference import parse_reference
from pipelines.shared.validators import (
    valid_arch,
    valid_base_url,
    valid_created,
    valid_fingerprint,
    valid_packages,
    valid_revision,
    valid_sha256,
    valid_version,
)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RunnerSpec:
    """One image to build: one architecture, one layout.

    Validated on construction; variants via ``dataclasses.replace``. Versions
    accept a leading "v" (as in release tags) and store the bare MAJOR.MINOR.PATCH.
    """

    runner_version: str = RUNNER_VERSION
    hooks_version: str = HOOKS_VERSION
    """Hooks release unpacked into k8s/ (ARC's kubernetes mode)."""
    hooks_novolume_version: str = HOOKS_NOVOLUME_VERSION
    """Hooks release unpacked into k8s-novolume/ (ARC's kubernetes-novolume mode)."""
    arch: str = DEFAULT_ARCH
    base_image: str = BASE_IMAGE
    layout: Layout = DEFAULT_LAYOUT
    runner_sha256: str | None = None
    hooks_sha256: str | None = None
    hooks_novolume_sha256: str | None = None
    runner_base_url: str = RUNNER_BASE_URL
    hooks_base_url: str = HOOKS_BASE_URL
    github_api_url: str = GITHUB_API_URL
    """GitHub's REST API, asked for a release's published sums when none is passed or pinned."""
    allow_unverified: bool = False
    """Build even when an asset's SHA-256 is unknown, and skip the comparison."""
    novolume_hooks: bool = True
    """Also ship k8s-novolume/ (ARC's kubernetes-novolume mode points at it)."""
    docker_cli: bool = True
    """Install Docker's CLI and buildx plugin (hosted layout only; ARC's dind mode)."""
    docker_version: str = DOCKER_VERSION
    buildx_version: str = BUILDX_VERSION
    docker_apt_url: str = DOCKER_APT_URL
    """Docker's apt repositories: <url>/<os id>/ (dists/, pool/, gpg)."""
    docker_key_fingerprint: str = DOCKER_KEY_FINGERPRINT
    """The only key apt may trust for that repository."""
    extra_packages: tuple[str, ...] = ()
    """apt packages of the base's distribution added to the image, NAME or NAME=VERSION."""
    ca_certificates: tuple[str, ...] = ()
    """PEM certificates added to the image's system trust store (update-ca-certificates), one per entry."""
    source: str | None = None
    revision: str | None = None
    created: str | None = None

    def __post_init__(self) -> None:
        arch = getattr(self.arch, "value", self.arch)
        valid_arch(arch)
        parse_reference(self.base_image, name="base_image")
        normalized = {
            "arch": arch,
            "layout": parse_layout(self.layout),
            "runner_version": valid_version("runner_version", self.runner_version),
            "hooks_version": valid_version("hooks_version", self.hooks_version),
            "hooks_novolume_version": valid_version("hooks_novolume_version", self.hooks_novolume_version),
            "runner_sha256": valid_sha256("runner_sha256", self.runner_sha256),
            "hooks_sha256": valid_sha256("hooks_sha256", self.hooks_sha256),
            "hooks_novolume_sha256": valid_sha256("hooks_novolume_sha256", self.hooks_novolume_sha256),
            "runner_base_url": valid_base_url("runner_base_url", self.runner_base_url),
            "hooks_base_url": valid_base_url("hooks_base_url", self.hooks_base_url),
            "github_api_url": valid_base_url("github_api_url", self.github_api_url),
            "docker_version": valid_version("docker_version", self.docker_version),
            "buildx_version": valid_version("buildx_version", self.buildx_version),
            "docker_apt_url": valid_base_url("docker_apt_url", self.docker_apt_url),
            "docker_key_fingerprint": valid_fingerprint("docker_key_fingerprint", self.docker_key_fingerprint),
            "source": None if self.source is None else valid_base_url("source", self.source),
            "created": valid_created(self.created),
            "extra_packages": valid_packages(self.extra_packages),
            "ca_certificates": valid_certificates(self.ca_certificates),
            "revision": valid_revision(self.revision),
        }
        for field, value in normalized.items():
            object.__setattr__(self, field, value)

    @property
    def ca_fingerprints(self) -> tuple[str, ...]:
        """SHA-256 of each added CA certificate, in the order given."""
        return tuple(certificate_fingerprint(pem) for pem in self.ca_certificates)

    @property
    def runner_arch(self) -> str:
        return RUNNER_ARCH[self.arch]

    @property
    def platform(self) -> str:
        return f"linux/{self.arch}"

    @property
    def contract(self) -> ImageContract:
        return CONTRACTS[self.layout]

    @property
    def name(self) -> str:
        """Short name for messages: arch/layout."""
        return f"{self.arch}/{self.layout.value}"

    @property
    def with_docker_cli(self) -> bool:
        """Whether this image gets the Docker CLI: asked for, and the hosted layout."""
        return self.docker_cli and self.layout is Layout.HOSTED

    @property
    def runner_asset(self) -> str:
        return f"actions-runner-linux-{self.runner_arch}-{self.runner_version}.tar.gz"

    @property
    def runner_url(self) -> str:
        return f"{self.runner_base_url}/v{self.runner_version}/{self.runner_asset}"

    @property
    def hooks_asset(self) -> str:
        return hooks_asset_name(self.hooks_version)

    @property
    def hooks_url(self) -> str:
        return f"{self.hooks_base_url}/v{self.hooks_version}/{self.hooks_asset}"

    @property
    def hooks_novolume_asset(self) -> str:
        # Upstream publishes no separate novolume zip: k8s-novolume/ is the
        # k8s asset of another (0.8.0+) release, as in upstream's Dockerfile.
        return hooks_asset_name(self.hooks_novolume_version)

    @property
    def hooks_novolume_url(self) -> str:
        return f"{self.hooks_base_url}/v{self.hooks_novolume_version}/{self.hooks_novolume_asset}"


def hooks_asset_name(version: str) -> str:
    """The k8s hooks asset of one runner-container-hooks release (its only k8s asset)."""
    return f"actions-runner-hooks-k8s-{version}.zip"


def tool_asset_name(tool: str, version: str, arch: str) -> str:
    """An anchore/<tool> release's binary for linux/<arch> (goreleaser's name)."""
    return f"{tool}_{version}_linux_{arch}.tar.gz"
