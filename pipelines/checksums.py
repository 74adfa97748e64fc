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

Everything but ``fetch_release_digests``/``resolve_checksums`` is pure; the
latter only fetches what ``checksum_needs`` asks for and lets each need ``choose``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import dagger

from pipelines.errors import ChecksumError, UpstreamError
from pipelines.pins import PINS, Pins
from pipelines.spec import GITHUB_API_URL, RunnerSpec, check_sha256, hooks_asset_name
from pipelines.upstream import API_WAYS_OUT, read_text

# The pinned sums live in pins.toml, for its versions only: another version
# passed as a flag has no pinned sum, so its sum is passed or published.
_SHA_MARKER = re.compile(
    r"<!--\s*BEGIN\s+SHA\s+(?P<label>[\w.-]+)\s*-->\s*(?P<sum>[0-9A-Fa-f]{64})\s*"
    r"<!--\s*END\s+SHA\s+(?P=label)\s*-->",
)
# The hooks' notes (runner-container-hooks releaseNotes.md) carry no markers:
# a "## SHA-256 Checksums" section lists "- <asset>.zip <sum>", one per line.
_SUMS_HEADING = re.compile(r"^##\s+SHA-256 Checksums\s*$", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,6}\s")
_SUM_LINE = re.compile(r"^[-*]\s+(?P<name>[\w.-]+\.(?:zip|tar\.gz))\s+(?P<sum>[0-9A-Fa-f]{64})$")
_RELEASE_TAG = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/releases/tags/(?P<tag>[^/?]+)$")
_ARCH_VALUE = re.compile(r"\b(?:amd64|arm64)=")
_GITHUB_DOWNLOAD = re.compile(r"^/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases/download$")


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


def runner_asset(spec: RunnerSpec) -> Asset:
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


def hooks_asset(spec: RunnerSpec) -> Asset:
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


def hooks_novolume_asset(spec: RunnerSpec) -> Asset:
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
    assets = [runner_asset(spec), hooks_asset(spec)]
    if spec.novolume_hooks:
        assets.append(hooks_novolume_asset(spec))
    return assets


def parse_release_notes(body: str) -> dict[str, str]:
    """SHA markers of a release note: {"linux-x64": "<hex>", ...}, sums lowercased."""
    return {m["label"]: m["sum"].lower() for m in _SHA_MARKER.finditer(body or "")}


def parse_sums_section(body: str) -> dict[str, str]:
    """{asset: hex} from the plain-text "## SHA-256 Checksums" section of a release note.

    Only lines "- <asset> <64 hex>" inside that section count (it ends at the
    next heading): 64-hex strings elsewhere in the note (commit ids, other
    sums quoted in prose) are not asset sums. Sums are lowercased.
    """
    sums: dict[str, str] = {}
    inside = False
    for raw in (body or "").splitlines():
        line = raw.strip()
        if _SUMS_HEADING.match(line):
            inside = True
        elif _HEADING.match(line):
            inside = False
        elif inside and (match := _SUM_LINE.match(line)):
            sums[match["name"]] = match["sum"].lower()
    return sums


def parse_release_assets(release_json: str) -> dict[str, str]:
    """{asset name: hex} from a GitHub releases API answer (assets[].digest "sha256:...").

    The release notes are read too: the runner's SHA markers, keyed by the
    runner asset they describe (label "linux-x64" ->
    actions-runner-linux-x64-<v>.tar.gz) when the release's tag gives the
    version, and the hooks' "## SHA-256 Checksums" lines, keyed by the asset
    they name. API digests win over the notes.
    """
    try:
        release = json.loads(release_json)
    except json.JSONDecodeError as e:
        msg = f"release JSON: expected a GitHub releases API object, found invalid JSON ({e})"
        raise ChecksumError(msg) from None
    if not isinstance(release, dict):
        msg = f"release JSON: expected an object with 'assets', found {type(release).__name__}"
        raise ChecksumError(msg)
    sums: dict[str, str] = {}
    body = str(release.get("body") or "")
    sums.update(parse_sums_section(body))
    version = str(release.get("tag_name") or "").removeprefix("v")
    if version:
        for label, hexsum in parse_release_notes(body).items():
            sums[f"actions-runner-{label}-{version}.tar.gz"] = hexsum
    for asset in release.get("assets") or []:
        digest = asset.get("digest") if isinstance(asset, dict) else None
        if isinstance(digest, str) and digest.startswith("sha256:"):
            sums[str(asset.get("name"))] = digest.removeprefix("sha256:").lower()
    return sums


def release_api_url(download_base_url: str, version: str, api_url: str = GITHUB_API_URL) -> str | None:
    """The releases API URL behind a github.com download base, else None (a mirror)."""
    parts = urlsplit(download_base_url)
    match = _GITHUB_DOWNLOAD.match(parts.path.rstrip("/"))
    if parts.hostname != "github.com" or match is None:
        return None
    return f"{api_url}/repos/{match['owner']}/{match['repo']}/releases/tags/v{version}"


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
            return check_sha256(flag.split(maxsplit=1)[0].removeprefix("--").replace("-", "_"), candidate)
    if allow_unverified:
        return None
    msg = (
        f"{asset}: expected a known SHA-256 to verify the download, found none "
        "(not passed, not pinned for this version, not published by the release). "
        f"Pass {flag} (64 hex), or opt out explicitly with --allow-unverified"
    )
    raise ChecksumError(msg)


async def fetch_release_digests(client: dagger.Client, api_url: str) -> dict[str, str]:
    """Asset sums GitHub publishes for one release (API digests, else the notes); UpstreamError if unreadable."""
    text = await read_text(client, api_url, api=True)
    try:
        return parse_release_assets(text)
    except ChecksumError as e:
        msg = f"{api_url}: {e.args[0]}"
        raise UpstreamError(msg, url=api_url) from None


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
