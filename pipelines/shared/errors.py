"""Errors raised by the pipeline, one class per stage that can fail.

Every message names the input, what was expected, what was found, and what to
do about it. The stage name is prefixed when the error is printed, so a user
reading a CI log knows which step refused.
"""

from __future__ import annotations

import json
from typing import ClassVar


def shown(value: object) -> str:
    """value quoted for an error message; control and non-ASCII characters escaped.

    A printable ASCII string shows as "value"; "2.337.0\n" shows its \n, so a
    reader sees why it was refused and a log line cannot be forged.
    """
    return json.dumps(value) if isinstance(value, str) else repr(value)


def refused(name: str, value: object, expected: str) -> str:
    """The message for a refused input: its name, its value as given, the form expected."""
    return f"{name} {shown(value)}: expected {expected}"


class RunnerImageError(Exception):
    """Base class of every error this project raises on purpose."""

    stage: ClassVar[str] = "runner-image"

    def __str__(self) -> str:
        return f"{self.stage}: {super().__str__()}"


class InvalidSpecError(RunnerImageError, ValueError):
    """A build input (version, arch, URL, image reference, ...) is malformed."""

    stage = "spec"


class ChecksumError(RunnerImageError):
    """No SHA-256 is known for an asset, or the downloaded bytes do not match it."""

    stage = "checksum"


class DownloadError(RunnerImageError):
    """An asset could not be downloaded (bad HTTP status, unreachable host, ...)."""

    stage = "download"


class ArchiveError(RunnerImageError):
    """An archive could not be unpacked, or lacks what the image needs (run.sh)."""

    stage = "unpack"


class PackageError(RunnerImageError):
    """The image's packages could not be installed (apt refused a repository or a package)."""

    stage = "packages"


class CertificateError(RunnerImageError):
    """The --ca-certificate certificates could not be added to the image's trust store."""

    stage = "ca-certificates"


class SmokeTestError(RunnerImageError):
    """The built image does not start the runner or does not honour its contract."""

    stage = "smoke-test"


class PublishError(RunnerImageError):
    """The image could not be published (bad address, credentials, registry error)."""

    stage = "publish"


class MergeError(RunnerImageError):
    """Per-arch images could not be merged into one index (missing, unreadable or mismatched source)."""

    stage = "merge"


class SbomError(RunnerImageError):
    """syft could not make an SBOM of a built image."""

    stage = "sbom"


class ScanError(RunnerImageError):
    """The scanner could not scan an image (tool, database, image), or --fail-on refused what it found."""

    stage = "scan"


class UpstreamError(RunnerImageError):
    """An upstream source (GitHub's API, Docker's apt index) could not be read, or answered what cannot be used."""

    stage = "upstream"

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        """What was read."""
        self.status = status
        """Its HTTP status, when one came back."""


class StalePinError(RunnerImageError):
    """A pinned runner is about to stop receiving jobs (updates --fail-within)."""

    stage = "updates"


class CheckError(RunnerImageError):
    """An image failed a mode it was checked against (the message holds the table), or check's input is bad."""

    stage = "check"


class BaseImageError(RunnerImageError):
    """The base image could not be pulled: every stage stands on it, so this is the cause to show."""

    stage = "base image"


def base_not_pulled(reference: str, said: str) -> BaseImageError:
    """The base image could not be pulled: its reference, the engine's words, and what to do."""
    msg = (
        f"{shown(reference)}: the engine could not pull it: {said}. Check --base-image, "
        "and that the engine reaches its registry (DNS, proxy, firewall, registry login)"
    )
    return BaseImageError(msg)


class EngineError(RunnerImageError):
    """The engine failed a step for a reason of its own (a registry, a network, an exec it could not start)."""

    stage = "engine"

    def __init__(self, step: str, said: str) -> None:
        super().__init__(f"{step}: the engine said: {said}. {ENGINE_WAY_OUT}")
        self.said = said
        """The engine's own words: the cause, which several steps may share."""


# The engine's words when it reached no server at all (not an answer, or a refusal, from one).
NETWORK_FAULTS = (
    "connection refused",
    "no such host",
    "server misbehaving",
    "network is unreachable",
    "no route to host",
)


def reached_nothing(said: str) -> bool:
    """Whether the engine's words say it reached no server at all."""
    return any(fault in said for fault in NETWORK_FAULTS)


def check_the_way(setting: str, place: str = "it") -> str:
    """What to do when the engine reached nothing: the setting that named the address, then the way there."""
    return f"Check {setting}, and that the engine can reach {place} (DNS, proxy, firewall)"


def reach_hint(said: str, setting: str) -> str:
    """The way out when the engine could not reach a registry (appended to its words); empty otherwise."""
    return f". {check_the_way(setting, 'its registry')}" if reached_nothing(said) else ""


ENGINE_WAY_OUT = (
    "If it names an address, check that address and that the engine can reach it "
    "(DNS, proxy, firewall, registry login); else run again, and report it if it stays"
)


def engine_said(error: Exception) -> str:
    """What the engine said about a failed query, on one line and not longer than a log line should be."""
    text = " ".join(str(error).split())
    return text if len(text) <= 800 else f"{text[:400]} … {text[-400:]}"
