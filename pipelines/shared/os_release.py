"""A base image's os-release(5): read as a file, parsed into its fields.

The build derives ImageOS and Docker's repository from it; updates reads
which Docker packages exist for it.
"""

from __future__ import annotations

import dagger

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


async def read_os_release(base: dagger.Container) -> str:
    """The base's os-release text, read as a file (no exec: nothing runs under emulation); "" if absent."""
    for path in OS_RELEASE_FILES:
        try:
            return await base.file(path).contents()
        except dagger.QueryError:
            continue
    return ""
