"""Which SHA-256 each asset must have, and where that number comes from.

Order of trust, first known wins:
  1. the sum the user passed (--runner-checksum ARCH=..., --hooks-checksum, ...);
  2. pins.toml, for the pinned versions;
  3. the digest GitHub publishes for the release (releases API ``digest``, or
     the sums written in the release notes: the runner's SHA markers, the
     hooks' plain-text "## SHA-256 Checksums" section), fetched only when 1
     and 2 know nothing; a release that cannot be read stops the build with
     the reason (unknown host, refused, rate limit, 404) and the ways out;
  4. nothing: refuse, unless the user opted out with --allow-unverified.

Everything but ``resolve_checksums`` (and published.fetch_release_digests) is pure; the
latter only fetches what ``checksum_needs`` asks for and lets each need ``choose``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import dagger

from pipelines.network.published import fetch_release_digests, release_api_url
from pipelines.network.upstream import API_WAYS_OUT
from pipelines.shared.errors import ChecksumError, UpstreamError
from pipelines.shared.pins import PINS, Pins
from pipelines.shared.spec import RunnerSpec, hooks_asset_name
from pipelines.shared.validators import valid_sha256

_RELEASE_TAG = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/releases/tags/(?P<tag>[^/?]+)$")
_ARCH_VALUE = re.compile(r"\b(?:amd64|arm64)=")


# The pinned sums live in pins.toml, for its versions only: another version
# passed as a flag has no pinned sum, so its sum is passed or published.
def pinned_runner_sha256(version: str, runner_arch: str, pins: Pins = PINS) -> str | None:
    return pins.runner_sha256.get(runner_arch) if version == pins.runner_version else None


def pinned_hooks_sha256(asset: str, pins: Pins = PINS) -> str | None:
    """The pinned sum of a hooks zip: k8s/'s or k8s-novolume/'s, whichever pins this asset's version."""
    pinned = (
        (pins.hooks_version, pins.hooks_sha256),
        (pins.hooks_novolume_version, pins.hooks_novolume_sha256),
    )
    return next((sha for version, sha in pinned if sha and hooks_asset_name(version) == asset), None)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Asset:
    """One archive a build needs: where it is, the sums known for it, the flags that set them."""

    field: str
    """The RunnerSpec field holding its sum."""
    name: str
    url: str
    base_url: str
    version: str
    explicit: str | None
    """The sum the user passed."""
    pinned: str | None
    """The sum pinned in this file for this version."""
    sha_flag: str
    """How the user passes its sum, as messages show it: "--hooks-checksum <SHA-256>"."""
    archive_flag: str
    hint: str = ""

    @property
    def sha256(self) -> str | None:
        """The sum known without asking anyone: explicit, else pinned."""
        return self.explicit or self.pinned


def runner_download(spec: RunnerSpec) -> Asset:
    """The runner tarball spec needs: its URL, and the SHA-256 it must have (passed, else pinned)."""
    return Asset(
        field="runner_sha256",
        name=spec.runner_asset,
        url=spec.runner_url,
        base_url=spec.runner_base_url,
        version=spec.runner_version,
        explicit=spec.runner_sha256,
        pinned=pinned_runner_sha256(spec.runner_version, spec.runner_arch),
        sha_flag=f"--runner-checksum {spec.arch}=<SHA-256>",
        archive_flag="--runner-archive",
    )


def hooks_download(spec: RunnerSpec) -> Asset:
    """The hooks' k8s zip for k8s/: its URL, and the SHA-256 it must have."""
    return Asset(
        field="hooks_sha256",
        name=spec.hooks_asset,
        url=spec.hooks_url,
        base_url=spec.hooks_base_url,
        version=spec.hooks_version,
        explicit=spec.hooks_sha256,
        pinned=pinned_hooks_sha256(spec.hooks_asset),
        sha_flag="--hooks-checksum <SHA-256>",
        archive_flag="--hooks-archive",
    )


def hooks_novolume_download(spec: RunnerSpec) -> Asset:
    """The k8s zip of the hooks release for k8s-novolume/: its URL, and the SHA-256 it must have."""
    """k8s-novolume/: the k8s zip of the novolume version (upstream has no separate asset)."""
    same_zip = spec.hooks_novolume_asset == spec.hooks_asset
    return Asset(
        field="hooks_novolume_sha256",
        name=spec.hooks_novolume_asset,
        url=spec.hooks_novolume_url,
        base_url=spec.hooks_base_url,
        version=spec.hooks_novolume_version,
        # One version for both folders is one zip: the k8s sum vouches for it too.
        explicit=spec.hooks_novolume_sha256 or (spec.hooks_sha256 if same_zip else None),
        pinned=pinned_hooks_sha256(spec.hooks_novolume_asset),
        sha_flag="--hooks-novolume-checksum <SHA-256>",
        archive_flag="--hooks-novolume-archive",
        hint=(
            "; k8s-novolume/ takes the k8s zip of a hooks release 0.8.0 or later: check "
            "--hooks-novolume-version, or leave k8s-novolume/ out with --novolume-hooks=false"
        ),
    )


def spec_assets(spec: RunnerSpec) -> list[Asset]:
    """Every archive spec's build downloads, in order."""
    assets = [runner_download(spec), hooks_download(spec)]
    if spec.novolume_hooks:
        assets.append(hooks_novolume_download(spec))
    return assets


def select_checksum(
    *,
    asset: str,
    flag: str,
    explicit: str | None = None,
    pinned: str | None = None,
    published: str | None = None,
    allow_unverified: bool = False,
) -> str | None:
    """The first known sum of explicit, pinned, published; None only if allowed."""
    for candidate in (explicit, pinned, published):
        if candidate:
            return valid_sha256(flag.split(maxsplit=1)[0].removeprefix("--").replace("-", "_"), candidate)
    if allow_unverified:
        return None
    msg = (
        f"{asset}: expected a known SHA-256 to verify the download, found none "
        "(not passed, not pinned for this version, not published by the release). "
        f"Pass {flag} (64 hex), or opt out explicitly with --allow-unverified"
    )
    raise ChecksumError(msg)


def unreadable_release_message(need: ChecksumNeed, error: UpstreamError) -> str:
    """No sum is known for need's asset and its release cannot be read: why, and the ways out.

    Worded per release, not per asset, so every image of a run that fails on
    the same API says it in one message.
    """
    release = _RELEASE_TAG.search(need.release_api or "")
    name = f"{release['repo']} {release['tag']}" if release else need.asset
    missing = " (no such release: check the version)" if error.status == 404 else ""
    flag = _ARCH_VALUE.sub("ARCH=", need.flag)
    return (
        f"{name}: expected a known SHA-256 for its assets; none was passed or pinned, and the sums "
        f"GitHub publishes for the release could not be read: {error.args[0]}{missing}. "
        f"Pass {flag} (64 hex), {API_WAYS_OUT}, or pass the archive itself"
    )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ChecksumNeed:
    """One asset the build needs a sum for, and where that sum may come from."""

    field: str
    flag: str
    asset: str
    explicit: str | None
    pinned: str | None
    release_api: str | None
    """The releases API to ask for the published sum; None when asking cannot help or is not wanted."""

    def choose(self, published: Mapping[str, str], *, allow_unverified: bool) -> str | None:
        """The sum by the order of trust; published is what release_api answered ({asset: hex})."""
        return select_checksum(
            asset=self.asset,
            flag=self.flag,
            explicit=self.explicit,
            pinned=self.pinned,
            published=published.get(self.asset),
            allow_unverified=allow_unverified,
        )


def checksum_needs(spec: RunnerSpec) -> list[ChecksumNeed]:
    """Every asset spec needs a sum for, in order.

    release_api is set only when nothing explicit or pinned is known, the user
    did not opt out, and the download base is github.com (never for a mirror).
    """
    return [
        ChecksumNeed(
            field=asset.field,
            flag=asset.sha_flag,
            asset=asset.name,
            explicit=asset.explicit,
            pinned=asset.pinned,
            release_api=None
            if asset.sha256 or spec.allow_unverified
            else release_api_url(asset.base_url, asset.version, spec.github_api_url),
        )
        for asset in spec_assets(spec)
    ]


async def resolve_checksums(client: dagger.Client, spec: RunnerSpec) -> RunnerSpec:
    """Return spec with every asset's sum filled in, per the order of trust above.

    Each releases API is asked at most once, and only when an asset needs it.
    """
    published_cache: dict[str, dict[str, str]] = {}
    chosen: dict[str, str | None] = {}
    for need in checksum_needs(spec):
        published: Mapping[str, str] = {}
        if need.release_api is not None:
            if need.release_api not in published_cache:
                try:
                    published_cache[need.release_api] = await fetch_release_digests(client, need.release_api)
                except UpstreamError as e:
                    raise ChecksumError(unreadable_release_message(need, e)) from e
            published = published_cache[need.release_api]
        chosen[need.field] = need.choose(published, allow_unverified=spec.allow_unverified)
    return dataclasses.replace(spec, **chosen)
