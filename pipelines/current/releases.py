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
from pipelines.shared.spec import hooks_asset_name
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
        sums = {}
        for asset in item.get("assets") or []:
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
    """One asset's SHA-256 as two sources give it."""

    asset: str
    api: str | None
    notes: str | None

    @property
    def agreed(self) -> str | None:
        return self.api if self.api and self.api == self.notes else None

    @property
    def problem(self) -> str | None:
        if self.agreed:
            return None
        if not self.api or not self.notes:
            missing = " and ".join(n for n, v in (("API digest", self.api), ("release notes", self.notes)) if not v)
            return f"{self.asset}: no SHA-256 in the {missing}"
        return f"{self.asset}: API digest {self.api} and release notes {self.notes} disagree"


def runner_sums(release: Release) -> tuple[AssetSums, ...]:
    markers = parse_release_notes(release.notes)
    return tuple(
        AssetSums(
            asset=(name := f"actions-runner-linux-{arch}-{release.version}.tar.gz"),
            api=release.api_sums.get(name),
            notes=markers.get(f"linux-{arch}"),
        )
        for arch in RUNNER_ARCH.values()
    )


def hooks_sums(release: Release) -> tuple[AssetSums, ...]:
    name = hooks_asset_name(release.version)
    return (AssetSums(asset=name, api=release.api_sums.get(name), notes=parse_sums_section(release.notes).get(name)),)


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
