"""One setting's value made valid: each valid_X returns X in its one normal form or refuses it by name.

Every refusal names the input, the form expected and an example, in the
words of pipelines.shared.errors.refused.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from pipelines.shared.defaults import ARCHES, DOCKER_KEY_FINGERPRINT, RUNNER_ARCH, RUNNER_BASE_URL
from pipelines.shared.errors import InvalidSpecError, refused
from pipelines.shared.pins import RUNNER_VERSION
from pipelines.shared.reference import HOST_PATTERN

# --- Validation helpers --------------------------------------------------------
# Every pattern is matched with fullmatch() and written with explicit ASCII
# classes, never \d or \w (which accept non-ASCII digits and letters) and
# never anchored with $ (which also matches before a trailing newline): a
# value that passes is exactly the documented form, so it can go into a URL,
# a label or an engine call unchanged.
_VERSION = re.compile(r"[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}")
_SHA256 = re.compile(r"[0-9A-Fa-f]{64}")
_FINGERPRINT = re.compile(r"[0-9A-Fa-f]{40}")

# http(s)://host[:port][/path], no credentials, query or fragment. The path
# takes RFC 3986's unreserved and sub-delim characters, ":" "@" and %XX escapes.
_URL = re.compile(
    rf"(?P<scheme>https?)://(?P<host>{HOST_PATTERN}|\[[0-9A-Fa-f:.]+\](?::[0-9]{{1,5}})?)"
    r"(?P<path>(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*)"
)
_URL_FORM = "an http:// or https:// URL without credentials, query or fragment"
# RFC 3339 as OCI's `created` label wants it: date, "T", time, "Z" or an offset.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
# A source-control revision: a commit id, a tag or a ref name, as git spells them.
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,254}")


def valid_arch(arch: str) -> str:
    """A Docker architecture the runner ships (amd64, arm64), as given; RunnerSpec.runner_arch names its asset's."""
    if arch not in RUNNER_ARCH:
        msg = f"arch {arch!r}: expected one of {', '.join(ARCHES)}; pass --arch amd64 or --arch arm64"
        raise InvalidSpecError(msg)
    return arch


def valid_version(name: str, value: str) -> str:
    """Return MAJOR.MINOR.PATCH; a single leading "v" (as in release tags) is dropped."""
    bare = value.removeprefix("v") if isinstance(value, str) else value
    if not isinstance(bare, str) or not _VERSION.fullmatch(bare):
        expected = f'MAJOR.MINOR.PATCH in digits 0-9, e.g. "{RUNNER_VERSION}" (a leading "v" is accepted and dropped)'
        msg = refused(name, value, expected)
        raise InvalidSpecError(msg)
    return bare


def valid_sha256(name: str, value: str | None) -> str | None:
    """Return a lowercase 64-hex SHA-256 (a "sha256:" prefix is dropped), or None."""
    if value is None:
        return None
    bare = value.removeprefix("sha256:") if isinstance(value, str) else ""
    # Checked before lower(): some non-ASCII letters lowercase to ASCII ones.
    if not _SHA256.fullmatch(bare):
        expected = (
            'a SHA-256 of 64 hexadecimal characters 0-9a-f (optionally prefixed "sha256:"), '
            f"found {len(bare)} characters"
        )
        msg = refused(name, value, expected)
        raise InvalidSpecError(msg)
    return bare.lower()


def valid_base_url(name: str, value: str) -> str:
    """Return an http(s) URL without its trailing slash."""
    if not isinstance(value, str) or not _URL.fullmatch(value):
        msg = refused(name, value, f"{_URL_FORM}, e.g. {RUNNER_BASE_URL}")
        raise InvalidSpecError(msg)
    return value.rstrip("/")


def valid_fingerprint(name: str, value: str) -> str:
    """Return an OpenPGP v4 fingerprint as 40 uppercase hex digits (spaces dropped)."""
    bare = value.replace(" ", "") if isinstance(value, str) else ""
    # Checked before upper(): some non-ASCII letters uppercase to ASCII ones ("\ufb00" -> "FF").
    if not _FINGERPRINT.fullmatch(bare):
        expected = (
            f"an OpenPGP fingerprint of 40 hexadecimal characters (spaces allowed), e.g. {DOCKER_KEY_FINGERPRINT}"
        )
        msg = refused(name, value, expected)
        raise InvalidSpecError(msg)
    return bare.upper()


# A Debian package name (Debian Policy 5.6.1), optionally =VERSION (5.6.12).
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]{1,63}(?:=[0-9][A-Za-z0-9.+~:-]{0,127})?")


def valid_packages(values: Sequence[str] | None) -> tuple[str, ...]:
    """apt package requests NAME or NAME=VERSION, each name once, in the order given."""
    found: list[str] = []
    for value in values or ():
        if not isinstance(value, str) or not _PACKAGE.fullmatch(value):
            expected = "NAME or NAME=VERSION of a Debian package (lowercase a-z 0-9 + . -), e.g. --extra-package tree"
            raise InvalidSpecError(refused("extra_package", value, expected))
        if value.split("=")[0] in {f.split("=")[0] for f in found}:
            raise InvalidSpecError(refused("extra_package", value, "each package once"))
        found.append(value)
    return tuple(found)


def valid_created(value: str | None) -> str | None:
    """Return an RFC 3339 timestamp unchanged, or None."""
    if value is None:
        return None
    expected = "an RFC 3339 timestamp, e.g. 2026-08-26T12:00:00Z"
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        msg = refused("created", value, expected)
        raise InvalidSpecError(msg)
    try:  # the form is right; is the date real (no month 13)?
        datetime.datetime.fromisoformat(value)
    except ValueError:
        msg = refused("created", value, expected)
        raise InvalidSpecError(msg) from None
    return value


def valid_revision(value: str | None) -> str | None:
    """Return a source-control revision (commit id, tag or ref name) unchanged, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not _REVISION.fullmatch(value):
        msg = refused("revision", value, "a commit id, tag or ref of up to 255 characters A-Z a-z 0-9 . _ / + -")
        raise InvalidSpecError(msg)
    return value


RUNNER_CHECKSUM_FORM = "ARCH=SHA256"


def parse_runner_checksums(values: Sequence[str] | None) -> dict[str, str]:
    """{arch: sha256} from --runner-checksum values of the form ARCH=SHA256, each arch at most once."""
    sums: dict[str, str] = {}
    for value in values or ():
        arch, sep, sha = value.partition("=") if isinstance(value, str) else ("", "", "")
        if not sep or arch not in RUNNER_ARCH or arch in sums:
            why = f"{arch} given twice" if arch in sums else "not of that form"
            expected = (
                f"{RUNNER_CHECKSUM_FORM} with ARCH one of {', '.join(ARCHES)}, each arch once ({why}); "
                "e.g. --runner-checksum arm64=<64 hex>"
            )
            msg = refused("runner_checksum", value, expected)
            raise InvalidSpecError(msg)
        sums[arch] = str(valid_sha256(f"runner_checksum {arch}", sha))
    return sums
