"""Docker image references: parsed as a registry would parse them, refused by name when malformed.

Every pattern is matched with fullmatch() and written with explicit ASCII
classes (see pipelines/shared/spec.py's validators for why).
"""

from __future__ import annotations

import dataclasses
import re

from pipelines.shared.errors import InvalidSpecError, refused

# A docker reference: [host[:port]/]path[:tag][@sha256:digest]
_HOST_LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
HOST_PATTERN = rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::[0-9]{{1,5}})?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_PATH_PART}(?:/{_PATH_PART})*")
_REFERENCE = re.compile(
    rf"(?:(?P<host>{HOST_PATTERN})/)?(?P<path>[a-z0-9._/-]+)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
_REFERENCE_FORM = "[HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST], e.g. ghcr.io/owner/image:tag"
DEFAULT_REGISTRY = "docker.io"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ImageRef:
    """A parsed docker reference."""

    host: str | None
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def registry(self) -> str:
        """The registry host, docker.io when the reference names none."""
        return self.host or DEFAULT_REGISTRY

    @property
    def repository(self) -> str:
        return f"{self.host}/{self.path}" if self.host else self.path

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.repository}{tag}{digest}"


def parse_reference(value: str, *, name: str = "image") -> ImageRef:
    """Parse a docker reference, refusing what a registry would refuse."""
    match = _REFERENCE.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        host, path = match["host"], match["path"]
        # As docker does: the first part is a host only if it looks like one.
        if host and not ("." in host or ":" in host or host == "localhost"):
            host, path = None, f"{host}/{path}"
        if _PATH.fullmatch(path) and len(f"{host or ''}/{path}") <= 255:
            return ImageRef(host=host, path=path, tag=match["tag"], digest=match["digest"])
    expected = f"a docker reference {_REFERENCE_FORM} (path in lowercase letters, digits and . _ - separators)"
    msg = refused(name, value, expected)
    raise InvalidSpecError(msg)
