"""The sums GitHub publishes for a release: the API's asset digests, and those its notes or checksums file list.

Pure parsing, but for fetch_release_digests, which reads the API through the engine.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import dagger

from pipelines.network.upstream import read_text
from pipelines.shared.defaults import GITHUB_API_URL
from pipelines.shared.errors import ChecksumError, UpstreamError

# The runner's notes carry each sum between SHA markers, labelled by platform.
_SHA_MARKER = re.compile(
    r"<!--\s*BEGIN\s+SHA\s+(?P<label>[\w.-]+)\s*-->\s*(?P<sum>[0-9A-Fa-f]{64})\s*"
    r"<!--\s*END\s+SHA\s+(?P=label)\s*-->",
)
# The hooks' notes (runner-container-hooks releaseNotes.md) carry no markers:
# a "## SHA-256 Checksums" section lists "- <asset>.zip <sum>", one per line.
_SUMS_HEADING = re.compile(r"^##\s+SHA-256 Checksums\s*$", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,6}\s")
_SUM_LINE = re.compile(r"^[-*]\s+(?P<name>[\w.-]+\.(?:zip|tar\.gz))\s+(?P<sum>[0-9A-Fa-f]{64})$")
# goreleaser's <project>_<version>_checksums.txt (anchore's tools): "<sum>  <file>", as sha256sum prints it.
_CHECKSUMS_LINE = re.compile(r"^(?P<sum>[0-9A-Fa-f]{64}) [ *](?P<name>[\w.+-]+)$")
_GITHUB_DOWNLOAD = re.compile(r"^/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases/download$")


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


def parse_checksums_file(text: str) -> dict[str, str]:
    """{file: hex} from a sha256sum-style checksums file (goreleaser's); other lines are not sums. Lowercased."""
    return {m["name"]: m["sum"].lower() for line in text.splitlines() if (m := _CHECKSUMS_LINE.match(line.strip()))}


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


async def fetch_release_digests(client: dagger.Client, api_url: str) -> dict[str, str]:
    """Asset sums GitHub publishes for one release (API digests, else the notes); UpstreamError if unreadable."""
    text = await read_text(client, api_url, api=True)
    try:
        return parse_release_assets(text)
    except ChecksumError as e:
        msg = f"{api_url}: {e.args[0]}"
        raise UpstreamError(msg, url=api_url) from None
