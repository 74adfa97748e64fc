"""The digest an image tag names now, as the engine resolves it: what `updates` compares a pinned base with.

Shared by updates (every arch must resolve, to one index) and base-fixes (the
digest it scans against the pinned one).
"""

from __future__ import annotations

import dataclasses

import dagger

from pipelines.shared.errors import shown
from pipelines.shared.reference import parse_reference


def followed_tag(reference: str) -> str | None:
    """The tag a base reference follows (TAG of TAG@sha256:…, or the reference itself); None for a digest alone."""
    ref = parse_reference(reference, name="base_image")
    return str(dataclasses.replace(ref, digest=None)) if ref.tag else None


async def tag_digest(client: dagger.Client, tag: str, platform: str) -> str:
    """The digest of what tag names now, resolved by the engine for platform: for an index, the index's own,
    whichever platform asks. A QueryError when the registry cannot be read or the index has no such platform."""
    resolved = await client.container(platform=dagger.Platform(platform)).from_(tag).image_ref()
    return resolved.rsplit("@", 1)[1]


def resolving(tag: str, platform: str) -> str:
    """The step's name, as an error shows it."""
    return f"resolving the base image {shown(tag)} to its digest for {platform}"
