"""What upstream has, read through the engine: GitHub's releases, Docker's apt index, the base's digest (look_up).

The reads run concurrently, each a named step; updates.py turns their answers
into rows.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Mapping

import dagger

from pipelines.current.releases import Release, newest, parse_releases, tool_checksums_file
from pipelines.current.updates import Row, base_row, docker_rows, hooks_row, runner_row, tool_row, wants_sums
from pipelines.network.published import parse_checksums_file
from pipelines.network.upstream import read_json, read_text
from pipelines.shared.concurrently import gather
from pipelines.shared.defaults import ARCHES
from pipelines.shared.errors import UpstreamError, check_the_way, shown
from pipelines.shared.os_release import parse_os_release, read_os_release
from pipelines.shared.pins import Pins
from pipelines.shared.tag_digest import followed_tag, resolving, tag_digest

RUNNER_REPO = "actions/runner"
HOOKS_REPO = "actions/runner-container-hooks"
TOOL_REPOS = {"grype": "anchore/grype", "syft": "anchore/syft"}  # the tools scan and sbom download
RELEASES_PATH = "/repos/{repo}/releases?per_page=100"  # newest first; the pinned release is among them
# What to do when a read fails: the setting that named the address, and the way to it.
API_FIX = f"{check_the_way('--github-api-url')}; at a rate limit, pass --github-token env://GITHUB_TOKEN"
APT_FIX = check_the_way("--docker-apt-url")
# The engine's words (BuildKit's) when an index has no image for the platform asked for.
NO_SUCH_PLATFORM = "no manifest matches requested platform"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Sources:
    """Where upstream is read from (settings of the module object)."""

    github_api_url: str
    docker_apt_url: str
    holds: Mapping[str, str | None]
    """Pin table -> version prefix it is held on (from pins.toml, overridden by --hold)."""


async def releases_of(client: dagger.Client, api_url: str, repo: str) -> tuple[list[Release], str]:
    url = api_url + RELEASES_PATH.format(repo=repo)
    return parse_releases(await read_json(client, url, fix=API_FIX), url=url), url


async def docker_indexes(
    client: dagger.Client, base: dagger.Container, reference: str, apt_url: str
) -> tuple[dict[str, str], str]:
    """Each arch's Packages index of Docker's stable channel for the base's distribution (base is reference)."""
    os_release = parse_os_release(await read_os_release(base, reference=reference))
    os_id, codename = os_release.get("ID"), os_release.get("VERSION_CODENAME")
    if not os_id or not codename:
        msg = f"base image: expected ID and VERSION_CODENAME in /etc/os-release, found {os_release}"
        raise UpstreamError(msg)
    root = f"{apt_url}/{os_id}/dists/{codename}/stable"
    texts = await gather(
        *(functools.partial(read_text, client, f"{root}/binary-{arch}/Packages", fix=APT_FIX) for arch in ARCHES),
        steps=[f"reading Docker's apt index {root}/binary-{arch}/Packages" for arch in ARCHES],
    )
    return dict(zip(ARCHES, texts, strict=True)), f"{root}/binary-<arch>/Packages"


async def tool_checksums(
    client: dagger.Client, tool: str, version: str, pinned_sums: Mapping[str, str | None], releases: list[Release]
) -> dict[str, str]:
    """The sums the newest release's checksums file lists, read only when that release would be proposed (and
    from where the API says it is); none when the release has no such file, which its row then reports."""
    candidate = newest(releases)
    if candidate is None or not wants_sums(version, list(pinned_sums.values()), candidate):
        return {}
    url = candidate.asset_urls.get(tool_checksums_file(tool, candidate.version))
    if url is None:
        return {}
    fix = "Check that the engine can reach it (the releases API at --github-api-url names it)"
    return parse_checksums_file(await read_text(client, url, fix=fix))


async def base_digests(client: dagger.Client, reference: str) -> dict[str, str | None]:
    """Arch -> the digest of the index the base's tag names now (what image_ref gives for every platform of an
    index), None where the index has no image for that arch; empty when the reference has no tag to follow."""
    tag = followed_tag(reference)
    if tag is None:
        return {}

    async def digest(arch: str) -> str | None:
        try:
            return await tag_digest(client, tag, f"linux/{arch}")
        except dagger.QueryError as e:
            if NO_SUCH_PLATFORM in str(e):
                return None
            raise

    found = await gather(
        *(functools.partial(digest, arch) for arch in ARCHES),
        steps=[resolving(tag, f"linux/{arch}") for arch in ARCHES],
    )
    return dict(zip(ARCHES, found, strict=True))


async def look_up(client: dagger.Client, pins: Pins, sources: Sources, *, now: datetime.datetime) -> list[Row]:
    """Every pin's row, upstream read concurrently through the engine."""
    base = client.container().from_(pins.base_image)
    api = sources.github_api_url
    (runner, runner_url), (hooks, hooks_url), (indexes, apt_source), resolved, *tools = await gather(
        functools.partial(releases_of, client, api, RUNNER_REPO),
        functools.partial(releases_of, client, api, HOOKS_REPO),
        functools.partial(docker_indexes, client, base, pins.base_image, sources.docker_apt_url),
        functools.partial(base_digests, client, pins.base_image),
        *(functools.partial(releases_of, client, api, repo) for repo in TOOL_REPOS.values()),
        steps=(
            f"reading {RUNNER_REPO}'s releases from {api}",
            f"reading {HOOKS_REPO}'s releases from {api}",
            "reading Docker's apt index",
            f"resolving the base image {shown(pins.base_image)} to its digest",
            *(f"reading {repo}'s releases from {api}" for repo in TOOL_REPOS.values()),
        ),
    )
    pinned = {"grype": (pins.grype_version, pins.grype_sha256), "syft": (pins.syft_version, pins.syft_sha256)}
    listed = await gather(
        *(
            functools.partial(tool_checksums, client, name, *pinned[name], found)
            for name, (found, _) in zip(TOOL_REPOS, tools, strict=True)
        ),
        steps=[f"reading {repo}'s checksums file" for repo in TOOL_REPOS.values()],
    )
    return [
        runner_row(pins, runner, source=runner_url, now=now),
        hooks_row(
            "hooks (k8s/)",
            "hooks",
            pins.hooks_version,
            pins.hooks_sha256,
            sources.holds.get("hooks"),
            hooks,
            hooks_url,
        ),
        hooks_row(
            "hooks (k8s-novolume/)",
            "hooks_novolume",
            pins.hooks_novolume_version,
            pins.hooks_novolume_sha256,
            sources.holds.get("hooks_novolume"),
            hooks,
            hooks_url,
        ),
        *docker_rows(pins, indexes, apt_source),
        *(
            tool_row(name, *pinned[name], found, url, sums)
            for name, (found, url), sums in zip(TOOL_REPOS, tools, listed, strict=True)
        ),
        base_row(pins.base_image, resolved),
    ]
