"""What upstream has released since pins.toml was written, and the rewritten file (`updates`, `bump`).

Pure: the engine reads (GitHub's releases API, Docker's apt index, the base's
digest) are in ``look_up``; everything else takes their answers as values.

Rules:
- the newest release is the newest by version that is neither a draft nor a
  prerelease, within the pin's ``hold`` prefix if it has one;
- a GitHub asset is proposed only with two agreeing SHA-256 sums: the API's
  asset ``digest`` and the release notes' (runner: ``<!-- BEGIN SHA linux-x64 -->``
  markers; hooks: the ``## SHA-256 Checksums`` list); a pin without its sum is
  out of date, and is filled the same way;
- the Docker CLI and buildx versions are the newest in Docker's apt index for
  the base's distribution, present for every arch (apt verifies the packages);
- the runner row carries GitHub's deadline: 30 days after the first release
  newer than the pin was published, the pinned runner gets no more jobs.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import dagger

from pipelines.current.releases import (
    AssetSums,
    Release,
    deb_versions,
    hooks_sums,
    newest,
    parse_releases,
    runner_sums,
    version_key,
)
from pipelines.network.upstream import read_json, read_text
from pipelines.shared.concurrently import gather
from pipelines.shared.defaults import ARCHES, RUNNER_ARCH
from pipelines.shared.errors import InvalidSpecError, StalePinError, UpstreamError, refused, shown
from pipelines.shared.os_release import parse_os_release, read_os_release
from pipelines.shared.pins import PINS_PATH, RUNNER_SUM_KEY, Pins, rewrite

RUNNER_REPO = "actions/runner"
HOOKS_REPO = "actions/runner-container-hooks"
RELEASES_PATH = "/repos/{repo}/releases?per_page=100"  # newest first; the pinned release is among them
DEADLINE_DAYS = 30  # GitHub: install each new runner release within 30 days of its publication
DOCKER_PACKAGES = {"cli": "docker-ce-cli", "buildx": "docker-buildx-plugin"}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Row:
    """One pin: where it stands, what upstream has, and what bump would write."""

    pin: str
    current: str
    newest: str
    source: str
    status: str
    sums: tuple[AssetSums, ...] = ()
    changes: Mapping[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    deadline: datetime.date | None = None
    days_left: int | None = None


def _proposal(
    *,
    pin: str,
    current: str,
    pinned_sums: Sequence[str | None],
    candidate: Release | None,
    sums_of: Callable[[Release], tuple[AssetSums, ...]],
    keys: tuple[tuple[str, str], Sequence[tuple[str, str]]],
    source: str,
    held: str = "",
) -> Row:
    """The row of a GitHub pin: a newer release, or the pinned one whose sums are missing, if both sources agree."""
    version_key_, sum_keys = keys
    if candidate is None:
        return Row(pin=pin, current=current, newest="none found", source=source, status=f"no stable release{held}")
    newer = version_key(candidate.version) > version_key(current)
    if not newer and (version_key(candidate.version) < version_key(current) or all(pinned_sums)):
        return Row(pin=pin, current=current, newest=candidate.version, source=source, status=f"current{held}")
    sums = sums_of(candidate)
    problems = [s.problem for s in sums if s.problem]
    if problems:
        status = "NOT proposed: " + "; ".join(problems)
        return Row(pin=pin, current=current, newest=candidate.version, source=source, status=status, sums=sums)
    changes = {key: s.agreed for key, s in zip(sum_keys, sums, strict=True) if s.agreed}
    if newer:
        changes[version_key_] = candidate.version
    status = f"update{held}" if newer else "fill the missing SHA-256"
    return Row(
        pin=pin, current=current, newest=candidate.version, source=source, status=status, sums=sums, changes=changes
    )


def runner_row(pins: Pins, releases: list[Release], *, source: str, now: datetime.datetime) -> Row:
    arches = list(RUNNER_ARCH.values())
    row = _proposal(
        pin="runner",
        current=pins.runner_version,
        pinned_sums=[pins.runner_sha256.get(arch) for arch in arches],
        candidate=newest(releases),
        sums_of=runner_sums,
        keys=(("runner", "version"), [("runner", RUNNER_SUM_KEY.format(runner_arch=arch)) for arch in arches]),
        source=source,
    )
    newer = [
        r.published
        for r in releases
        if r.stable and r.published and version_key(r.version) > version_key(pins.runner_version)
    ]
    if not newer:
        return row
    deadline = min(newer) + datetime.timedelta(days=DEADLINE_DAYS)  # from the first newer release
    return dataclasses.replace(row, deadline=deadline.date(), days_left=(deadline - now).days)


def hooks_row(
    pin: str, table: str, version: str, sha: str | None, hold: str | None, releases: list[Release], source: str
) -> Row:
    candidate = newest(releases, hold)
    held = f" (held at {hold}.x)" if hold else ""
    overall = newest(releases)
    if hold and overall and candidate and overall.version != candidate.version:
        held = f" (held at {hold}.x; newest {overall.version})"
    return _proposal(
        pin=pin,
        current=version,
        pinned_sums=[sha],
        candidate=candidate,
        sums_of=hooks_sums,
        keys=((table, "version"), [(table, "sha256")]),
        source=source,
        held=held,
    )


def docker_rows(pins: Pins, indexes: Mapping[str, str], source: str) -> list[Row]:
    """docker-ce-cli and docker-buildx-plugin: the newest version every arch's index has."""
    rows = []
    for key, package in DOCKER_PACKAGES.items():
        current = pins.docker_version if key == "cli" else pins.buildx_version
        common = set.intersection(*(deb_versions(text, package) for text in indexes.values()))
        best = max(common, key=version_key, default=None)
        if best is None:
            status = f"NOT proposed: no {package} version in every arch's index ({', '.join(indexes)})"
            rows.append(Row(pin=package, current=current, newest="none found", source=source, status=status))
            continue
        newer = version_key(best) > version_key(current)
        rows.append(
            Row(
                pin=package,
                current=current,
                newest=best,
                source=source,
                status="update" if newer else "current",
                changes={("docker", key): best} if newer else {},
            )
        )
    return rows


def base_row(pins: Pins, resolved: str) -> Row:
    digest = resolved.rsplit("@", 1)[1] if "@" in resolved else "unknown"
    return Row(
        pin="base image",
        current=pins.base_image,
        newest=digest,
        source=pins.base_image.split("/", 1)[0],
        status="pin it as image@digest to freeze it; bump leaves it",
    )


def changes_of(rows: Iterable[Row]) -> dict[tuple[str, str], str]:
    return {key: value for row in rows for key, value in row.changes.items()}


def title(rows: Sequence[Row]) -> str:
    """A PR title in ARC's words: "Update runner to <version>, hooks to <version>"."""
    moved = [f"{row.pin} to {row.newest}" for row in rows if row.changes and not row.status.startswith("fill")]
    filled = [row.pin for row in rows if row.changes and row.status.startswith("fill")]
    parts = [f"Update {', '.join(moved)}"] if moved else []
    if filled:
        parts.append(f"{'pin' if moved else 'Pin'} the SHA-256 of {', '.join(filled)}")
    return "; ".join(parts) if parts else "Nothing to update"


def render(rows: Sequence[Row]) -> str:
    """The title line, a Markdown table (one row per pin), and each proposed asset's two sums."""
    lines = [title(rows), "", "| pin | current | newest | status | source |", "|---|---|---|---|---|"]
    for row in rows:
        status = row.status
        if row.deadline is not None:
            status += f"; GitHub stops sending jobs to {row.current} on {row.deadline} ({row.days_left} days left)"
        lines.append(f"| {row.pin} | {row.current} | {row.newest} | {status} | {row.source} |")
    sums = [(row, s) for row in rows for s in row.sums]
    if sums:
        lines += ["", "| asset | API digest | release notes | agree |", "|---|---|---|---|"]
        lines += [f"| {s.asset} | {s.api or '—'} | {s.notes or '—'} | {'yes' if s.agreed else 'NO'} |" for _, s in sums]
    return "\n".join(lines) + "\n"


def bumped(text: str, rows: Sequence[Row]) -> str:
    """pins.toml's text with every proposed change written; the same text when there is none."""
    return rewrite(text, changes_of(rows), where=PINS_PATH)


def check_deadline(rows: Sequence[Row], fail_within: int | None) -> None:
    """Refuse when the runner pin has fewer than fail_within days left (the table is in the message)."""
    if fail_within is None:
        return
    for row in rows:
        if row.days_left is not None and row.days_left < fail_within:
            msg = (
                f"{row.pin} {row.current}: GitHub stops sending jobs to it on {row.deadline} "
                f"({row.days_left} days left, fewer than --fail-within {fail_within}): expected a newer pin. "
                f"Merge the update PR, or run `dagger call bump export --path {PINS_PATH}` and commit it.\n\n"
                f"{render(rows)}"
            )
            raise StalePinError(msg)


# --- the engine reads --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Sources:
    """Where upstream is read from (settings of the module object)."""

    github_api_url: str
    docker_apt_url: str
    holds: Mapping[str, str | None]
    """Pin table -> version prefix it is held on (from pins.toml, overridden by --hold)."""


async def releases_of(client: dagger.Client, api_url: str, repo: str) -> tuple[list[Release], str]:
    url = api_url + RELEASES_PATH.format(repo=repo)
    return parse_releases(await read_json(client, url), url=url), url


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
        *(functools.partial(read_text, client, f"{root}/binary-{arch}/Packages") for arch in ARCHES),
        steps=[f"reading Docker's apt index {root}/binary-{arch}/Packages" for arch in ARCHES],
    )
    return dict(zip(ARCHES, texts, strict=True)), f"{root}/binary-<arch>/Packages"


async def look_up(client: dagger.Client, pins: Pins, sources: Sources, *, now: datetime.datetime) -> list[Row]:
    """Every pin's row, upstream read concurrently through the engine."""
    base = client.container().from_(pins.base_image)
    (runner, runner_url), (hooks, hooks_url), (indexes, apt_source), resolved = await gather(
        functools.partial(releases_of, client, sources.github_api_url, RUNNER_REPO),
        functools.partial(releases_of, client, sources.github_api_url, HOOKS_REPO),
        functools.partial(docker_indexes, client, base, pins.base_image, sources.docker_apt_url),
        base.image_ref,
        steps=(
            f"reading {RUNNER_REPO}'s releases from {sources.github_api_url}",
            f"reading {HOOKS_REPO}'s releases from {sources.github_api_url}",
            "reading Docker's apt index",
            f"resolving the base image {shown(pins.base_image)} to its digest",
        ),
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
        base_row(pins, resolved),
    ]


HOLD_FORM = "PIN=PREFIX with PIN hooks or hooks_novolume and PREFIX like 0.7 (empty: no hold)"


def holds(pins: Pins, flags: Sequence[str] | None) -> dict[str, str | None]:
    """The holds of pins.toml, each overridden by a --hold PIN=PREFIX flag."""
    found: dict[str, str | None] = {"hooks": pins.hooks_hold, "hooks_novolume": pins.hooks_novolume_hold}
    for flag in flags or ():
        pin, sep, prefix = flag.partition("=")
        if not sep or pin not in found or not re.fullmatch(r"(?:[0-9]{1,9}(?:\.[0-9]{1,9}){0,2})?", prefix):
            raise InvalidSpecError(refused("hold", flag, HOLD_FORM))
        found[pin] = prefix or None
    return found
