"""Upstream's answers as values: GitHub releases and their two kinds of sums, the versions in Docker's apt index.

Pure: current/updates.py reads them through the engine and compares them with the pins.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterable, Mapping

from pipelines.network.published import parse_release_notes, parse_sums_section
from pipelines.shared.defaults import RUNNER_ARCH
from pipelines.shared.errors import InvalidSpecError, UpstreamError, refused
from pipelines.shared.pins import TOOL_ARCHES
from pipelines.shared.spec import hooks_asset_name, tool_asset_name
from pipelines.shared.validators import valid_sha256, valid_version

_DEB_VERSION = re.compile(r"(?:[0-9]+:)?(?P<upstream>[0-9]+\.[0-9]+\.[0-9]+)-[0-9A-Za-z.~+]+")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Release:
    """One GitHub release, as the releases API lists it."""

    version: str
    published: datetime.datetime | None
    stable: bool
    """Neither a draft nor a prerelease."""
    api_sums: Mapping[str, str]
    """Asset name -> SHA-256 from the API's asset digest."""
    notes: str
    asset_urls: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Asset name -> where it is downloaded (the API's browser_download_url)."""


def parse_releases(answer: object, *, url: str) -> list[Release]:
    """The releases of an API answer (a JSON list); UpstreamError naming url for anything malformed."""
    if not isinstance(answer, list) or not all(isinstance(item, dict) for item in answer):
        msg = f"{url}: expected a JSON list of release objects, found {type(answer).__name__}"
        raise UpstreamError(msg, url=url)
    releases = []
    for item in answer:
        tag = item.get("tag_name")
        stable = not item.get("draft") and not item.get("prerelease")
        try:
            version = valid_version(f"release tag_name at {url}", str(tag))
        except InvalidSpecError as e:
            if not stable:  # a prerelease's odd tag is never proposed: no need to refuse it
                continue
            raise UpstreamError(str(e.args[0]), url=url) from None
        sums, urls = {}, {}
        for asset in item.get("assets") or []:
            if isinstance(asset, dict) and isinstance(asset.get("browser_download_url"), str):
                urls[str(asset.get("name"))] = asset["browser_download_url"]
            digest = asset.get("digest") if isinstance(asset, dict) else None
            if digest:  # None on releases older than the API's digests
                name = f"asset {asset.get('name')} of {tag} at {url}"
                try:
                    sums[str(asset.get("name"))] = str(valid_sha256(f"{name}: digest", str(digest)))
                except InvalidSpecError as e:
                    raise UpstreamError(str(e.args[0]), url=url) from None
        releases.append(
            Release(
                version=version,
                published=_timestamp(item.get("published_at"), url),
                stable=stable,
                api_sums=sums,
                notes=str(item.get("body") or ""),
                asset_urls=urls,
            )
        )
    return releases


def _timestamp(value: object, url: str) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        msg = refused(f"published_at at {url}", value, "an ISO 8601 time, e.g. 2026-10-06T12:00:00Z")
        raise UpstreamError(msg, url=url) from None


def newest(releases: Iterable[Release], hold: str | None = None) -> Release | None:
    """The newest stable release, by version, within hold's prefix if given."""
    stable = [r for r in releases if r.stable and (hold is None or r.version.startswith(f"{hold}."))]
    return max(stable, key=lambda r: version_key(r.version), default=None)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AssetSums:
    """One asset's SHA-256 as two sources give it: the API's digest, and the release's own list of sums."""

    asset: str
    api: str | None
    listed: str | None
    listed_in: str = "release notes"
    """Where the release lists its sums: its notes, or its checksums file."""

    @property
    def agreed(self) -> str | None:
        return self.api if self.api and self.api == self.listed else None

    @property
    def problem(self) -> str | None:
        if self.agreed:
            return None
        if not self.api or not self.listed:
            missing = " and ".join(n for n, v in (("API digest", self.api), (self.listed_in, self.listed)) if not v)
            return f"{self.asset}: no SHA-256 in the {missing}"
        return f"{self.asset}: API digest {self.api} and {self.listed_in} {self.listed} disagree"


def runner_sums(release: Release) -> tuple[AssetSums, ...]:
    markers = parse_release_notes(release.notes)
    return tuple(
        AssetSums(
            asset=(name := f"actions-runner-linux-{arch}-{release.version}.tar.gz"),
            api=release.api_sums.get(name),
            listed=markers.get(f"linux-{arch}"),
        )
        for arch in RUNNER_ARCH.values()
    )


def hooks_sums(release: Release) -> tuple[AssetSums, ...]:
    name = hooks_asset_name(release.version)
    return (AssetSums(asset=name, api=release.api_sums.get(name), listed=parse_sums_section(release.notes).get(name)),)


def tool_checksums_file(tool: str, version: str) -> str:
    """The checksums file of an anchore/<tool> release (goreleaser's name)."""
    return f"{tool}_{version}_checksums.txt"


def tool_sums(tool: str, release: Release, listed: Mapping[str, str]) -> tuple[AssetSums, ...]:
    """Each engine arch's release asset of an anchore/<tool> release; listed is its checksums file, parsed."""
    return tuple(
        AssetSums(
            asset=(name := tool_asset_name(tool, release.version, arch)),
            api=release.api_sums.get(name),
            listed=listed.get(name),
            listed_in=tool_checksums_file(tool, release.version),
        )
        for arch in TOOL_ARCHES
    )


def deb_versions(packages_index: str, package: str) -> set[str]:
    """Upstream MAJOR.MINOR.PATCH versions of package in an apt Packages index (release candidates left out)."""
    found = set()
    for stanza in re.split(r"\n\s*\n", packages_index):
        fields = dict(
            line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith((" ", "\t"))
        )
        if fields.get("Package", "").strip() == package and (
            match := _DEB_VERSION.fullmatch(fields.get("Version", "").strip())
        ):
            found.add(match["upstream"])
    return found
