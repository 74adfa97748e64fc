"""The tools scan and sbom run, grype and syft, from their official releases: the pinned version, verified.

Each is a static Go binary in a GitHub release asset of anchore/<tool>,
``<tool>_<version>_linux_<arch>.tar.gz``, for the engine's own platform (where
the tool runs). The SHA-256 it must have is, first found: the one given
(--grype-checksum, --syft-checksum), the one pins.toml pins for that arch, or the
one GitHub's releases API publishes for that asset (its digest), read at
--github-api-url with the settings' token. The download base may be a mirror,
whose bytes must match it. The archive is unpacked with the base image's tar, on the engine's
platform; only the binary leaves that container. A binary passed in instead
(--grype, --syft) is used as given: the air-gapped way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import dagger

from pipelines.network.download import GaveUp, digest_matches, downloaded
from pipelines.network.published import fetch_release_digests
from pipelines.network.upstream import cause
from pipelines.shared.defaults import GITHUB_API_URL
from pipelines.shared.errors import RunnerImageError, UpstreamError, check_the_way, reached_nothing
from pipelines.shared.pins import PINS, PINS_PATH, TOOL_SUM_KEY
from pipelines.shared.spec import tool_asset_name

IN = "/in/tool.tar.gz"
OUT = "/out"


@dataclasses.dataclass(frozen=True)
class Tool:
    """One of Anchore's tools at one version, and the flags that name it."""

    name: str  # grype, syft
    version: str
    sha256: Mapping[str, str | None] = dataclasses.field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Engine arch -> the pinned SHA-256 of its release asset (None: not pinned)."""

    @property
    def base_url(self) -> str:
        return f"https://github.com/anchore/{self.name}/releases/download"

    @property
    def file_flag(self) -> str:
        return f"--{self.name}"

    @property
    def url_flag(self) -> str:
        return f"--{self.name}-base-url"

    @property
    def sum_flag(self) -> str:
        return f"--{self.name}-checksum"

    def asset(self, arch: str) -> str:
        return tool_asset_name(self.name, self.version, arch)

    def url(self, base_url: str, arch: str) -> str:
        return f"{base_url.rstrip('/')}/v{self.version}/{self.asset(arch)}"

    def release_api(self, api_url: str) -> str:
        return f"{api_url.rstrip('/')}/repos/anchore/{self.name}/releases/tags/v{self.version}"


GRYPE = Tool("grype", PINS.grype_version, PINS.grype_sha256)
SYFT = Tool("syft", PINS.syft_version, PINS.syft_sha256)


async def expected_sum(
    client: dagger.Client, tool: Tool, arch: str, given: str | None, api_url: str, error: type[Exception]
) -> tuple[str, str]:
    """The SHA-256 the asset must have, and where it came from: given, else pinned, else GitHub's."""
    if given:
        return given, f"the {tool.sum_flag} given"
    if pinned := tool.sha256.get(arch):
        return pinned, f"{PINS_PATH}'s [tools] {TOOL_SUM_KEY.format(tool=tool.name, arch=arch)}"
    return await published_sum(client, tool, arch, api_url, error), f"what GitHub publishes for {tool.asset(arch)}"


async def published_sum(client: dagger.Client, tool: Tool, arch: str, api_url: str, error: type[Exception]) -> str:
    """The SHA-256 GitHub's API publishes for the tool's asset; error (naming what to do) when it cannot be read."""
    api, asset = tool.release_api(api_url), tool.asset(arch)
    try:
        sums = await fetch_release_digests(client, api)
    except UpstreamError as e:
        way = check_the_way("--github-api-url") if reached_nothing(str(e)) else "Check --github-api-url and the token"
        msg = f"{asset}: expected its SHA-256 from {api}, {e.args[0]}. {way}, or pass {tool.file_flag} FILE"
        raise error(msg) from e
    if asset not in sums:
        msg = (
            f"{asset}: expected {api} to publish its SHA-256 (an asset digest), found sums for "
            f"{sorted(sums) or 'no asset'}; pass {tool.file_flag} FILE (a {tool.name} binary) instead"
        )
        raise error(msg)
    return sums[asset]


async def official_tool(
    client: dagger.Client,
    tool: Tool,
    *,
    base_image: str,
    base_url: str,
    api_url: str = GITHUB_API_URL,
    sha256: str | None = None,
    error: type[RunnerImageError],
) -> dagger.File:
    """The tool's binary for the engine's platform, from its release asset verified against its SHA-256."""
    arch = str(await client.default_platform()).split("/")[1]
    expected, source = await expected_sum(client, tool, arch, sha256, api_url, error)
    url = tool.url(base_url, arch)

    try:
        archive, found = await downloaded(client, url, what=url)
    except (dagger.QueryError, GaveUp) as e:
        way = check_the_way(tool.url_flag) if reached_nothing(str(e)) else f"check {tool.url_flag}"
        msg = f"could not read {url}: {cause(e)}. {way}, or pass {tool.file_flag} FILE (a {tool.name} binary)"
        raise error(msg) from e
    if not digest_matches(found, expected):
        msg = (
            f"{url}: expected SHA-256 {expected} ({source}), found engine digest {found}. "
            f"Nothing was run; check {tool.url_flag} (a mirror must serve the release's bytes)"
        )
        raise error(msg)
    unpacked = (
        client.container()
        .from_(base_image)
        .with_mounted_file(IN, archive)
        .with_exec(["mkdir", "-p", OUT])
        .with_exec(["tar", "-xzf", IN, "-C", OUT, tool.name])
    )
    try:
        return await unpacked.file(f"{OUT}/{tool.name}").sync()
    except dagger.ExecError as e:
        msg = f"{url}: expected a tar.gz holding {tool.name}, tar exited {e.exit_code}: {e.stderr.strip()[-400:]}"
        raise error(msg) from e
