"""Get the runner and hooks archives, and verify them before anything unpacks them.

The engine's digest of a download is compared with the expected SHA-256 by
pipelines/network/download.py's ``digest_matches`` (what the engine's digest is).
"""

from __future__ import annotations

import logging

import dagger

from pipelines.network.checksums import Asset, hooks_download, hooks_novolume_download, runner_download, select_checksum
from pipelines.network.download import DownloadPolicy, GaveUp, digest_matches, downloaded
from pipelines.shared.errors import ChecksumError, DownloadError, check_the_way, reached_nothing
from pipelines.shared.spec import RunnerSpec

logger = logging.getLogger(__name__)

SMALL_BODY = 1024  # bytes; a runner tarball is ~100 MB, an error page a few bytes
HASH_PATH = "/tmp/runner-image-asset"  # noqa: S108 - path inside a throwaway container


def source(asset: Asset, *, local: bool) -> str:
    """Where the bytes come from, as the error messages name it."""
    return f"the local file given as {asset.archive_flag}" if local else asset.url


def download_error_message(asset: Asset, where: str, error: object) -> str:
    """Why the asset could not be read from where, and what to do about it.

    When the engine reached no server at all, the version is not in question: the way there is.
    """
    if reached_nothing(str(error)):
        base_flag = "--runner-base-url" if asset.archive_flag == "--runner-archive" else "--hooks-base-url"
        todo = f"{check_the_way(base_flag)}, or pass {asset.archive_flag}"
        return f"{asset.name}: could not read {where}: {error}. {todo}"
    return (
        f"{asset.name}: could not read {where}: {error}. Expected an HTTP 200 with the asset; "
        "check the version exists there (or point --runner-base-url/--hooks-base-url "
        f"at a mirror, or pass {asset.archive_flag}){asset.hint}"
    )


def mismatch_message(asset: Asset, where: str, expected: str, found: str, size: int) -> str:
    """The bytes from where are not the asset: both sums, the size, and an error-page hint if small."""
    hint = f"; a body of {size} bytes is usually an HTTP error page, not the asset" if size < SMALL_BODY else ""
    return (
        f"{asset.name} from {where}: expected SHA-256 {expected}, found {found} "
        f"({size} bytes){hint}. Nothing was unpacked. Check the URL, or pass the right "
        f"{asset.sha_flag} if the asset really changed"
    )


async def fetch_runner(client: dagger.Client, spec: RunnerSpec, archive: dagger.File | None = None) -> dagger.File:
    """The runner tarball for spec's arch, downloaded or given, verified."""
    return await fetch_asset(client, spec, runner_download(spec), archive)


async def fetch_hooks(client: dagger.Client, spec: RunnerSpec, archive: dagger.File | None = None) -> dagger.File:
    """The k8s container hooks zip, downloaded or given, verified."""
    return await fetch_asset(client, spec, hooks_download(spec), archive)


async def fetch_hooks_novolume(
    client: dagger.Client, spec: RunnerSpec, archive: dagger.File | None = None
) -> dagger.File:
    """The k8s-novolume container hooks zip, downloaded or given, verified."""
    return await fetch_asset(client, spec, hooks_novolume_download(spec), archive)


async def fetch_asset(
    client: dagger.Client,
    spec: RunnerSpec,
    asset: Asset,
    archive: dagger.File | None = None,
    *,
    policy: DownloadPolicy | None = None,
) -> dagger.File:
    """Return the asset's File once its SHA-256 matches (or unverified, if allowed).

    A download is retried on transient failures and limited in time per attempt
    (policy, else the current ``download_policy``); a mismatch is never retried.
    """
    expected = select_checksum(
        asset=asset.name,
        flag=asset.sha_flag,
        explicit=asset.sha256,
        allow_unverified=spec.allow_unverified,
    )
    where = source(asset, local=archive is not None)
    try:
        if archive is None:
            file, found = await downloaded(client, asset.url, what=f"{asset.name} from {asset.url}", policy=policy)
        else:
            file, found = archive, await archive.digest(exclude_metadata=True)
    except (dagger.QueryError, GaveUp) as e:
        raise DownloadError(download_error_message(asset, where, e)) from e
    if spec.allow_unverified or expected is None:  # None only when allowed: see select_checksum
        logger.warning(
            "%s from %s is NOT verified (--allow-unverified); engine digest %s",
            asset.name,
            where,
            found,
        )
        return file
    if not digest_matches(found, expected):
        raise await _mismatch(client, spec, asset, file, where, expected, found)
    return file


async def _mismatch(
    client: dagger.Client,
    spec: RunnerSpec,
    asset: Asset,
    file: dagger.File,
    where: str,
    expected: str,
    engine_found: str,
) -> ChecksumError:
    size = await file.size()
    actual = await content_sha256(client, spec, file)
    found = actual or f"engine digest {engine_found} (not a plain SHA-256)"
    return ChecksumError(mismatch_message(asset, where, expected, found, size))


async def content_sha256(client: dagger.Client, spec: RunnerSpec, file: dagger.File) -> str | None:
    """The plain SHA-256 of a file, by sha256sum in the base image; None if that fails.

    Used only to report a mismatch in a form a person can compare with a release note.
    """
    ctr = client.container().from_(spec.base_image).with_mounted_file(HASH_PATH, file)
    try:
        out = await ctr.with_exec(["sha256sum", HASH_PATH]).stdout()
    except dagger.QueryError:
        return None
    first = out.split()[0] if out.split() else ""
    return first.lower() if len(first) == 64 else None
