"""What a new base image fixes: the known vulnerabilities of the old digest that the new one no longer has.

The daily update PR moves the base to its tag's new digest (bump); its body
says what that brings, from grype's scans of the pinned digest and the one
the tag names now, for one platform, with the same database. A scan that
cannot run is an error, as scan's are, never an empty list: the update
workflow then says in the PR that it could not tell.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence

import dagger

from pipelines.audit.findings import Finding, Layout, database_built, findings
from pipelines.audit.scan import grype_report
from pipelines.shared.concurrently import gather
from pipelines.shared.reference import parse_reference
from pipelines.shared.tag_digest import followed_tag, resolving, tag_digest

HEADING = "### What the new base image fixes"
NOT_KNOWN = Layout(base_packages=None, runner_roots=())  # a base alone: no runner, nothing added on top


def gone(before: Sequence[Finding], after: Sequence[Finding]) -> list[Finding]:
    """before's findings that after no longer has (the same vulnerability of the same package): fixed, or the
    package removed."""
    left = {(f.vulnerability, f.package) for f in after}
    return [f for f in before if (f.vulnerability, f.package) not in left]


def render_fixes(before: str, after: str, platform: str, built: str, fixed: Sequence[Finding]) -> str:
    """The PR body's section: a line saying what was compared, then one row per vulnerability gone."""
    compared = f"`{before}` → `{after}` ({platform}, grype's database built {built})"
    if not fixed:
        return f"{HEADING}\n\n{compared}: none of the old digest's known vulnerabilities is gone.\n"
    noun = "vulnerability" if len(fixed) == 1 else "vulnerabilities"
    lines = [HEADING, "", f"{compared}: {len(fixed)} known {noun} of the old digest gone in the new one.", ""]
    lines += ["| package | installed before | vulnerability | severity |", "|---|---|---|---|"]
    lines += [f"| {f.package} | {f.installed} | {f.vulnerability} | {f.severity} |" for f in fixed]
    return "\n".join(lines) + "\n"


async def base_fixes(
    client: dagger.Client,
    *,
    base: str,
    platform: str,
    grype: Callable[[], Awaitable[dagger.File]],
    database: Callable[[], Awaitable[dagger.File]],
) -> str:
    """The section for a base pinned as TAG@DIGEST whose tag names another digest now (what bump would move it
    to); empty when the base has no tag and digest to compare, or did not move (then no tool or database is
    fetched: grype and database are called only when there is something to scan)."""
    tag = followed_tag(base)
    if tag is None or parse_reference(base, name="base_image").digest is None:  # no tag to follow, or no digest
        return ""
    (digest,) = await gather(functools.partial(tag_digest, client, tag, platform), steps=[resolving(tag, platform)])
    after = f"{tag}@{digest}"
    if after == base:
        return ""
    binary, db = await grype(), await database()
    pulled = {ref: client.container(platform=dagger.Platform(platform)).from_(ref) for ref in (base, after)}
    scans = [functools.partial(grype_report, client, ctr, binary, db, name=ref) for ref, ctr in pulled.items()]
    old, new = await gather(*scans, steps=[f"scanning {ref} ({platform})" for ref in pulled])
    fixed = gone(findings(old.report, NOT_KNOWN), findings(new.report, NOT_KNOWN))
    return render_fixes(base, after, platform, database_built(new.report), fixed)
