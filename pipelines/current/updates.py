"""What upstream has released since pins.toml was written, and the rewritten file (`updates`, `bump`).

Pure: the engine reads (GitHub's releases API, Docker's apt index, the base's
digest) are look_up.py's; everything here takes their answers as values.

Rules:
- the newest release is the newest by version that is neither a draft nor a
  prerelease, within the pin's ``hold`` prefix if it has one;
- a GitHub asset is proposed only with two agreeing SHA-256 sums: the API's
  asset ``digest`` and the release's own list (runner: its notes'
  ``<!-- BEGIN SHA linux-x64 -->`` markers; hooks: its notes' ``## SHA-256
  Checksums`` list; grype and syft: its ``<tool>_<version>_checksums.txt``);
  a pin without its sum is out of date, and is filled the same way;
- the Docker CLI and buildx versions are the newest in Docker's apt index for
  the base's distribution, present for every arch (apt verifies the packages);
- the base image follows its tag: the digest of the index the tag names now,
  when every arch resolves in it, is written as TAG@sha256:DIGEST;
- the runner row carries GitHub's deadline: 30 days after the first release
  newer than the pin was published, the pinned runner gets no more jobs.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from pipelines.current.releases import (
    AssetSums,
    Release,
    deb_versions,
    hooks_sums,
    newest,
    runner_sums,
    tool_sums,
    version_key,
)
from pipelines.shared.defaults import RUNNER_ARCH
from pipelines.shared.errors import InvalidSpecError, StalePinError, refused
from pipelines.shared.pins import PINS_PATH, RUNNER_SUM_KEY, TOOL_SUM_KEY, Pins, rewrite
from pipelines.shared.reference import parse_reference
from pipelines.shared.tag_digest import followed_tag

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
    if not wants_sums(current, pinned_sums, candidate):
        return Row(pin=pin, current=current, newest=candidate.version, source=source, status=f"current{held}")
    sums = sums_of(candidate)
    problems = [s.problem for s in sums if s.problem]
    if problems:
        status = "NOT proposed: " + "; ".join(problems)
        return Row(pin=pin, current=current, newest=candidate.version, source=source, status=status, sums=sums)
    changes = {key: s.agreed for key, s in zip(sum_keys, sums, strict=True) if s.agreed}
    if newer:
        changes[version_key_] = candidate.version
    status = f"update{held}" if newer else FILL_SUMS
    return Row(
        pin=pin, current=current, newest=candidate.version, source=source, status=status, sums=sums, changes=changes
    )


def wants_sums(current: str, pinned_sums: Sequence[str | None], candidate: Release | None) -> bool:
    """Whether candidate would be proposed, if its sums agree: it is newer, or it is the pin, missing a sum."""
    if candidate is None:
        return False
    found, pinned = version_key(candidate.version), version_key(current)
    return found > pinned or (found == pinned and not all(pinned_sums))


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


def tool_row(
    name: str,
    current: str,
    pinned_sums: Mapping[str, str | None],
    releases: list[Release],
    source: str,
    listed: Mapping[str, str],
) -> Row:
    """A tool scan or sbom downloads (grype, syft): its newest stable release, with its release assets' sums
    (one per engine arch) where the API's digests and listed (the release's checksums file, parsed) agree."""
    arches = list(pinned_sums)
    return _proposal(
        pin=name,
        current=current,
        pinned_sums=[pinned_sums[arch] for arch in arches],
        candidate=newest(releases),
        sums_of=lambda release: tool_sums(name, release, listed),
        keys=(("tools", name), [("tools", TOOL_SUM_KEY.format(tool=name, arch=arch)) for arch in arches]),
        source=source,
    )


BASE_KEY = ("base", "image")
FILL_SUMS, FILL_DIGEST = "fill the missing SHA-256", "fill the missing digest"


def base_row(current: str, resolved: Mapping[str, str | None]) -> Row:
    """The base the build reads (current: tag, or tag@digest) against the digest of the index its tag names now.

    resolved is arch -> the index digest the tag resolved to for that arch, None
    where the index has no image for it; empty when current has no tag to follow.
    Proposed only when every arch resolved, to the same index.
    """
    ref = parse_reference(current, name="base_image")
    row = functools.partial(Row, pin="base image", current=current, source=ref.registry)
    tag = followed_tag(current)
    if tag is None:
        return row(newest="—", status="pinned by digest alone: no tag to follow; bump leaves it")
    missing = [f"linux/{arch}" for arch, digest in resolved.items() if digest is None]
    found = {digest for digest in resolved.values() if digest}
    if missing or len(found) != 1:
        why = (
            f"its index has no image for {', '.join(missing)}" if missing else f"the arches resolve to {sorted(found)}"
        )
        return row(
            newest="—",
            status=f"NOT proposed: {tag}: {why}; every arch ({', '.join(resolved)}) must resolve in one index",
        )
    (digest,) = found
    if digest == ref.digest:
        return row(newest=digest, status="current")
    status = "update" if ref.digest else FILL_DIGEST
    return row(newest=digest, status=status, changes={BASE_KEY: f"{tag}@{digest}"})


def changes_of(rows: Iterable[Row]) -> dict[tuple[str, str], str]:
    return {key: value for row in rows for key, value in row.changes.items()}


def title(rows: Sequence[Row]) -> str:
    """A PR title in ARC's words: "Update runner to <version>, hooks to <version>"."""
    # [:19]: a base digest shortened to its first 12 hex digits, as docker shows one; versions are shorter.
    moved = [f"{row.pin} to {row.newest[:19]}" for row in rows if row.changes and not row.status.startswith("fill")]
    filled = [row.pin for row in rows if row.changes and row.status == FILL_SUMS]
    pinned = [f"the SHA-256 of {', '.join(filled)}"] if filled else []
    if any(row.changes and row.status == FILL_DIGEST for row in rows):
        pinned.append("the base image's digest")
    parts = [f"Update {', '.join(moved)}"] if moved else []
    if pinned:
        parts.append(f"{'pin' if moved else 'Pin'} {' and '.join(pinned)}")
    return "; ".join(parts) or "Nothing to update"


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
        lines += ["", "| asset | API digest | the release's own list | agree |", "|---|---|---|---|"]
        lines += [
            f"| {s.asset} | {s.api or '—'} | {s.listed or '—'} ({s.listed_in}) | {'yes' if s.agreed else 'NO'} |"
            for _, s in sums
        ]
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
