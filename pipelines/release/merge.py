"""Merge per-arch images, each pushed natively by `publish --arch <one>`, into one multi-arch index.

Every source is read and checked first (platform, layout and runner version
labels); only when all of them fit is anything written, so a release tag
never points at an incomplete or mixed index.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import anyio
import dagger

from pipelines.release.publish import check_credentials, publish, valid_address
from pipelines.shared.contract import Layout
from pipelines.shared.defaults import ARCHES
from pipelines.shared.errors import InvalidSpecError, MergeError, PublishError, reach_hint
from pipelines.shared.labels import LAYOUT_LABEL, VERSION_LABEL
from pipelines.shared.reference import parse_reference

SOURCE_HINT = "pass the reference `publish --arch <arch>` printed (tag or @sha256 digest)"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Source:
    """One per-arch image as the registry serves it."""

    reference: str
    """As given (--source)."""
    pinned: str
    """The same image by digest: what was checked is what gets merged."""
    platform: str
    """os/arch of the image's config."""
    layout: str | None
    """Its dev.runner-image.layout label (None: not built by this module)."""
    version: str | None
    """Its org.opencontainers.image.version label (the runner version)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Login:
    """Registry login for the sources and the addresses (one registry user for both)."""

    username: str
    password: dagger.Secret


def platforms_of(arches: Sequence[str]) -> list[str]:
    return [f"linux/{arch}" for arch in arches]


def check_inputs(references: Sequence[str], addresses: Sequence[str], arches: Sequence[str]) -> None:
    """Refuse malformed or repeated references before anything is read (pure)."""
    if not references:
        msg = f"source: expected one per-arch image per --arch ({', '.join(arches)}), found none; {SOURCE_HINT}"
        raise MergeError(msg)
    if not addresses:
        msg = "address: expected at least one release address to tag the index with, found none; pass --address"
        raise MergeError(msg)
    for name, values in (("source", references), ("address", addresses)):
        repeated = sorted({v for v in values if list(values).count(v) > 1})
        if repeated:
            msg = f'{name} "{repeated[0]}": expected each {name} once, found it {list(values).count(repeated[0])} times'
            raise MergeError(msg)
    for reference in references:
        try:
            parse_reference(reference, name="source")
        except InvalidSpecError as e:
            raise MergeError(e.args[0]) from None
    for address in addresses:
        try:
            valid_address(address)
        except PublishError as e:
            raise MergeError(e.args[0]) from None
    unknown = [arch for arch in arches if arch not in ARCHES]
    if unknown or len(set(arches)) != len(arches):
        msg = f"arch: expected each of {', '.join(ARCHES)} at most once, found {', '.join(arches)}"
        raise MergeError(msg)


def check_sources(sources: Sequence[Source], *, arches: Sequence[str], layout: Layout, runner_version: str) -> None:
    """Each asked platform exactly once, all of one layout and runner version (pure); one error lists every problem."""
    wanted = platforms_of(arches)
    problems: list[str] = []
    seen: dict[str, str] = {}
    for s in sources:
        if s.platform not in wanted:
            problems.append(
                f'source "{s.reference}": expected an image for {" or ".join(wanted)}, found {s.platform}; '
                f"pass the image published for the asked arch, or ask for its arch with --arch"
            )
        elif s.platform in seen:
            problems.append(
                f'source "{s.reference}": expected each platform once, found {s.platform} in "{seen[s.platform]}" '
                f"too; pass one image per arch"
            )
        else:
            seen[s.platform] = s.reference
        for label, expected, found in (
            (LAYOUT_LABEL, layout.value, s.layout),
            (VERSION_LABEL, runner_version, s.version),
        ):
            if found != expected:
                shown = f'"{found}"' if found is not None else "no such label (not an image this module built)"
                problems.append(
                    f'source "{s.reference}": expected label {label}="{expected}", found {shown}; '
                    f"merge images of one layout and runner version (set --layout / --runner-version to match)"
                )
    missing = [p for p in wanted if p not in seen]
    problems.extend(
        f"platform {p}: expected a source for it, found none among {', '.join(s.reference for s in sources)}; "
        f"publish it with `publish --arch {p.split('/')[1]}` and pass that reference with --source"
        for p in missing
    )
    if problems:
        raise MergeError(" | ".join(problems))


def _pull(client: dagger.Client, reference: str, platform: str | None, login: Login | None) -> dagger.Container:
    ctr = client.container(platform=dagger.Platform(platform) if platform else None)
    if login is not None:
        ctr = ctr.with_registry_auth(reference, login.username, login.password)
    return ctr.from_(reference)


async def read_source(client: dagger.Client, reference: str, login: Login | None) -> Source:
    """Resolve reference to a digest and read its platform and labels (config only, no layers)."""
    try:
        pinned = await _pull(client, reference, None, login).image_ref()
        # A single-platform image is served as itself whatever platform is
        # asked; an index answers each platform with its own member. Asking
        # for every arch tells the two apart.
        found = {str(await _pull(client, pinned, p, login).platform()) for p in platforms_of(ARCHES)}
    except dagger.QueryError as e:
        hint = " (the registry wants a login: pass --username and --password)" if "401" in str(e) else ""
        pushed = f"; check the reference and that `publish` pushed it, then {SOURCE_HINT}"
        todo = reach_hint(str(e), "--source") or pushed
        msg = f'source "{reference}": expected a readable per-arch image, could not read it: {e}{hint}{todo}'
        raise MergeError(msg) from e
    if len(found) != 1:
        msg = (
            f'source "{reference}": expected a single-platform image, found a multi-platform index '
            f"({', '.join(sorted(found))}); {SOURCE_HINT}"
        )
        raise MergeError(msg)
    ctr = _pull(client, pinned, None, login)
    return Source(
        reference=reference,
        pinned=pinned,
        platform=found.pop(),
        layout=await ctr.label(LAYOUT_LABEL),
        version=await ctr.label(VERSION_LABEL),
    )


async def read_sources(client: dagger.Client, references: Sequence[str], login: Login | None) -> list[Source]:
    """Every source read concurrently; the errors of all unreadable ones reported together."""
    results: dict[int, Source] = {}
    errors: dict[int, MergeError] = {}

    async def one(index: int, reference: str) -> None:
        try:
            results[index] = await read_source(client, reference, login)
        except MergeError as e:
            errors[index] = e

    async with anyio.create_task_group() as tg:
        for index, reference in enumerate(references):
            tg.start_soon(one, index, reference)
    if errors:
        raise MergeError(" | ".join(str(errors[i].args[0]) for i in sorted(errors)))
    return [results[i] for i in range(len(references))]


async def merge(
    client: dagger.Client,
    references: Sequence[str],
    addresses: Sequence[str],
    *,
    arches: Sequence[str] = ARCHES,
    layout: Layout = Layout.HOSTED,
    runner_version: str,
    username: str | None = None,
    password: dagger.Secret | None = None,
) -> str:
    """Check every source, then publish them as one index at every address; return the first address@digest."""
    check_inputs(references, addresses, arches)
    check_credentials(username, password)
    login = Login(username=username, password=password) if username and password else None
    sources = await read_sources(client, references, login)
    check_sources(sources, arches=arches, layout=layout, runner_version=runner_version)
    by_platform = {s.platform: s for s in sources}
    containers = [_pull(client, by_platform[p].pinned, p, login) for p in platforms_of(arches)]
    published = [await publish(client, containers, address, username, password) for address in addresses]
    # The same containers give the same index; a tag whose digest differed
    # would make the attested digest a lie for it, so say so loudly.
    digests = {ref.rsplit("@", 1)[1] for ref in published}
    if len(digests) != 1:
        msg = f"addresses: expected one index digest at every address, found {', '.join(published)}; re-run merge"
        raise MergeError(msg)
    return published[0]
