"""A base image's os-release(5): read as a file, parsed into its fields.

The build derives ImageOS and Docker's repository from it; updates reads
which Docker packages exist for it.
"""

from __future__ import annotations

import dagger

from pipelines.shared.errors import base_not_pulled, engine_said

# os-release(5): /etc first, else the vendor file it usually links to.
OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines of os-release(5), quotes removed."""
    fields: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        fields[key.strip()] = value.strip().strip("\"'")
    return fields


async def read_os_release(base: dagger.Container, *, reference: str) -> str:
    """The base's os-release text, read as a file (no exec: nothing runs under emulation); "" if absent.

    A base the engine could not pull is not one without the file: that is told
    apart after the first read fails, before the second path would make the
    engine try the pull (and its retries) once more, and refused naming the
    base and the engine's words.
    """
    first, fallback = OS_RELEASE_FILES
    try:
        return await base.file(first).contents()
    except dagger.QueryError:
        pass
    try:
        await base.sync()
    except dagger.QueryError as e:
        raise base_not_pulled(reference, engine_said(e)) from e
    try:
        return await base.file(fallback).contents()
    except dagger.QueryError:
        return ""
