"""What to build: versions, architecture, base image, layout and asset sums.

The pinned defaults come from pins.toml (pipelines/pins.py), the one copy a
version bump changes; the rest of the defaults below are not versions.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import hashlib
import re
import ssl
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from pipelines.contract import (
    CONTRACTS,
    DEFAULT_LAYOUT,
    ImageContract,
    Layout,
    parse_layout,
)
from pipelines.errors import InvalidSpecError, refused, shown
from pipelines.pins import PINS
from pipelines.reference import HOST_PATTERN, parse_reference

# --- Pinned defaults (pins.toml) -----------------------------------------------
RUNNER_VERSION = PINS.runner_version
HOOKS_VERSION = PINS.hooks_version  # k8s/, as upstream's RUNNER_CONTAINER_HOOKS_VERSION
HOOKS_NOVOLUME_VERSION = PINS.hooks_novolume_version  # k8s-novolume/: the k8s asset of 0.8.0+ (no runner volume)
BASE_IMAGE = PINS.base_image
# Docker CLI + buildx for ARC's dind mode (hosted layout), from Docker's apt
# repository; apt checks it against Docker's release key, pinned by fingerprint.
DOCKER_VERSION = PINS.docker_version  # docker-ce-cli, as upstream's DOCKER_VERSION
BUILDX_VERSION = PINS.buildx_version  # docker-buildx-plugin, as upstream's BUILDX_VERSION
# --- Where things come from ------------------------------------------------------
RUNNER_BASE_URL = "https://github.com/actions/runner/releases/download"
HOOKS_BASE_URL = "https://github.com/actions/runner-container-hooks/releases/download"
GITHUB_API_URL = "https://api.github.com"
DEFAULT_ARCH = "amd64"
DOCKER_APT_URL = "https://download.docker.com/linux"
DOCKER_KEY_FINGERPRINT = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"  # Docker's release key

# Docker/OCI architecture -> architecture in the runner's asset name. The runner
# also ships 32-bit `arm`; it is not offered here (no user asked for it).
RUNNER_ARCH: Mapping[str, str] = MappingProxyType({"amd64": "x64", "arm64": "arm64"})
ARCHES: tuple[str, ...] = tuple(RUNNER_ARCH)


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


def runner_arch(arch: str) -> str:
    """Map a Docker architecture (amd64, arm64) to the runner asset's (x64, arm64)."""
    try:
        return RUNNER_ARCH[arch]
    except KeyError:
        msg = f"arch {arch!r}: expected one of {', '.join(ARCHES)}; pass --arch amd64 or --arch arm64"
        raise InvalidSpecError(msg) from None


def check_version(name: str, value: str) -> str:
    """Return MAJOR.MINOR.PATCH; a single leading "v" (as in release tags) is dropped."""
    bare = value.removeprefix("v") if isinstance(value, str) else value
    if not isinstance(bare, str) or not _VERSION.fullmatch(bare):
        expected = f'MAJOR.MINOR.PATCH in digits 0-9, e.g. "{RUNNER_VERSION}" (a leading "v" is accepted and dropped)'
        msg = refused(name, value, expected)
        raise InvalidSpecError(msg)
    return bare


def check_sha256(name: str, value: str | None) -> str | None:
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


def check_base_url(name: str, value: str) -> str:
    """Return an http(s) URL without its trailing slash."""
    if not isinstance(value, str) or not _URL.fullmatch(value):
        msg = refused(name, value, f"{_URL_FORM}, e.g. {RUNNER_BASE_URL}")
        raise InvalidSpecError(msg)
    return value.rstrip("/")


def check_fingerprint(name: str, value: str) -> str:
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


def check_packages(values: Sequence[str] | None) -> tuple[str, ...]:
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


CA_CERTIFICATE_FLAG = "--ca-certificate"
_CA_FORM = 'one PEM certificate: a single "-----BEGIN CERTIFICATE-----" block of base64 DER (as openssl x509 writes it)'
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,64})-----(.*?)-----END \1-----", re.DOTALL)
_PEM_BEGIN = re.compile(r"-----BEGIN ")


def certificate_der(text: str) -> bytes:
    """The DER of text's one CERTIFICATE block; ValueError saying what text holds instead.

    One block per input: `openssl rehash`, which update-ca-certificates runs,
    skips a file of several certificates (so OpenSSL's directory lookup would
    miss them), and a private key beside the certificate must never reach an
    image. Text outside the block (openssl x509 -text's dump) is allowed.
    """
    blocks = _PEM_BLOCK.findall(text)
    if len(_PEM_BEGIN.findall(text)) != len(blocks):
        msg = "a -----BEGIN line without its -----END line"
        raise ValueError(msg)
    if not blocks:
        if not text.strip():
            msg = "an empty file"
            raise ValueError(msg)
        if not text.isascii() or not text.replace("\n", "").replace("\r", "").isprintable():
            msg = "binary data (a DER file? openssl x509 -inform der -in FILE -out FILE.pem converts it)"
            raise ValueError(msg)
        msg = "text without a PEM block"
        raise ValueError(msg)
    kinds = [kind for kind, _ in blocks]
    if kinds != ["CERTIFICATE"]:
        found = " and ".join(f"a {kind} block" for kind in kinds)
        key = " (a private key must never go into an image)" if any("PRIVATE KEY" in k for k in kinds) else ""
        several = "; pass each certificate with its own --ca-certificate" if kinds.count("CERTIFICATE") > 1 else ""
        msg = f"{found}{key}{several}"
        raise ValueError(msg)
    try:
        der = base64.b64decode(re.sub(r"[ \t\r\n]", "", blocks[0][1]), validate=True)
    except binascii.Error:
        msg = "a CERTIFICATE block whose body is not base64"
        raise ValueError(msg) from None
    try:  # OpenSSL itself parses it, as the image's OpenSSL will
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=der)
    except ssl.SSLError:
        msg = "a CERTIFICATE block that OpenSSL cannot read as an X.509 certificate"
        raise ValueError(msg) from None
    return der


def certificate_fingerprint(pem: str) -> str:
    """SHA-256 of a certificate's DER, lowercase hex (what openssl x509 -fingerprint -sha256 shows, without colons)."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def check_certificates(values: Sequence[str] | None, names: Sequence[str] = ()) -> tuple[str, ...]:
    """PEM certificates, each exactly one, each once, re-encoded from their DER in one canonical form.

    names (file names or paths) say which input a refusal is about, beside its position.
    """
    found: dict[bytes, int] = {}
    for index, value in enumerate(values or (), start=1):
        which = f"{CA_CERTIFICATE_FLAG} #{index}" + (f" {shown(names[index - 1])}" if index <= len(names) else "")
        try:
            der = certificate_der(value if isinstance(value, str) else "")
        except ValueError as e:
            msg = f"{which}: expected {_CA_FORM}; found {e}"
            raise InvalidSpecError(msg) from None
        if der in found:
            msg = f"{which}: expected each certificate once; found the same one as #{found[der]}"
            raise InvalidSpecError(msg)
        found[der] = index
    return tuple(ssl.DER_cert_to_PEM_cert(der) for der in found)


def check_created(value: str | None) -> str | None:
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


def check_revision(value: str | None) -> str | None:
    """Return a source-control revision (commit id, tag or ref name) unchanged, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not _REVISION.fullmatch(value):
        msg = refused("revision", value, "a commit id, tag or ref of up to 255 characters A-Z a-z 0-9 . _ / + -")
        raise InvalidSpecError(msg)
    return value


# --- The spec -----------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RunnerSpec:
    """One image to build: one architecture, one layout.

    Validated on construction; variants via ``dataclasses.replace``. Versions
    accept a leading "v" (as in release tags) and store the bare MAJOR.MINOR.PATCH.
    """

    runner_version: str = RUNNER_VERSION
    hooks_version: str = HOOKS_VERSION
    """Hooks release unpacked into k8s/ (ARC's kubernetes mode)."""
    hooks_novolume_version: str = HOOKS_NOVOLUME_VERSION
    """Hooks release unpacked into k8s-novolume/ (ARC's kubernetes-novolume mode)."""
    arch: str = DEFAULT_ARCH
    base_image: str = BASE_IMAGE
    layout: Layout = DEFAULT_LAYOUT
    runner_sha256: str | None = None
    hooks_sha256: str | None = None
    hooks_novolume_sha256: str | None = None
    runner_base_url: str = RUNNER_BASE_URL
    hooks_base_url: str = HOOKS_BASE_URL
    github_api_url: str = GITHUB_API_URL
    """GitHub's REST API, asked for a release's published sums when none is passed or pinned."""
    allow_unverified: bool = False
    """Build even when an asset's SHA-256 is unknown, and skip the comparison."""
    novolume_hooks: bool = True
    """Also ship k8s-novolume/ (ARC's kubernetes-novolume mode points at it)."""
    docker_cli: bool = True
    """Install Docker's CLI and buildx plugin (hosted layout only; ARC's dind mode)."""
    docker_version: str = DOCKER_VERSION
    buildx_version: str = BUILDX_VERSION
    docker_apt_url: str = DOCKER_APT_URL
    """Docker's apt repositories: <url>/<os id>/ (dists/, pool/, gpg)."""
    docker_key_fingerprint: str = DOCKER_KEY_FINGERPRINT
    """The only key apt may trust for that repository."""
    extra_packages: tuple[str, ...] = ()
    """apt packages of the base's distribution added to the image, NAME or NAME=VERSION."""
    ca_certificates: tuple[str, ...] = ()
    """PEM certificates added to the image's system trust store (update-ca-certificates), one per entry."""
    source: str | None = None
    revision: str | None = None
    created: str | None = None

    def __post_init__(self) -> None:
        arch = getattr(self.arch, "value", self.arch)
        runner_arch(arch)
        parse_reference(self.base_image, name="base_image")
        normalized = {
            "arch": arch,
            "layout": parse_layout(self.layout),
            "runner_version": check_version("runner_version", self.runner_version),
            "hooks_version": check_version("hooks_version", self.hooks_version),
            "hooks_novolume_version": check_version("hooks_novolume_version", self.hooks_novolume_version),
            "runner_sha256": check_sha256("runner_sha256", self.runner_sha256),
            "hooks_sha256": check_sha256("hooks_sha256", self.hooks_sha256),
            "hooks_novolume_sha256": check_sha256("hooks_novolume_sha256", self.hooks_novolume_sha256),
            "runner_base_url": check_base_url("runner_base_url", self.runner_base_url),
            "hooks_base_url": check_base_url("hooks_base_url", self.hooks_base_url),
            "github_api_url": check_base_url("github_api_url", self.github_api_url),
            "docker_version": check_version("docker_version", self.docker_version),
            "buildx_version": check_version("buildx_version", self.buildx_version),
            "docker_apt_url": check_base_url("docker_apt_url", self.docker_apt_url),
            "docker_key_fingerprint": check_fingerprint("docker_key_fingerprint", self.docker_key_fingerprint),
            "source": None if self.source is None else check_base_url("source", self.source),
            "created": check_created(self.created),
            "extra_packages": check_packages(self.extra_packages),
            "ca_certificates": check_certificates(self.ca_certificates),
            "revision": check_revision(self.revision),
        }
        for field, value in normalized.items():
            object.__setattr__(self, field, value)

    @property
    def ca_fingerprints(self) -> tuple[str, ...]:
        """SHA-256 of each added CA certificate, in the order given."""
        return tuple(certificate_fingerprint(pem) for pem in self.ca_certificates)

    @property
    def runner_arch(self) -> str:
        return RUNNER_ARCH[self.arch]

    @property
    def platform(self) -> str:
        return f"linux/{self.arch}"

    @property
    def contract(self) -> ImageContract:
        return CONTRACTS[self.layout]

    @property
    def name(self) -> str:
        """Short name for messages: arch/layout."""
        return f"{self.arch}/{self.layout.value}"

    @property
    def with_docker_cli(self) -> bool:
        """Whether this image gets the Docker CLI: asked for, and the hosted layout."""
        return self.docker_cli and self.layout is Layout.HOSTED

    @property
    def runner_asset(self) -> str:
        return f"actions-runner-linux-{self.runner_arch}-{self.runner_version}.tar.gz"

    @property
    def runner_url(self) -> str:
        return f"{self.runner_base_url}/v{self.runner_version}/{self.runner_asset}"

    @property
    def hooks_asset(self) -> str:
        return hooks_asset_name(self.hooks_version)

    @property
    def hooks_url(self) -> str:
        return f"{self.hooks_base_url}/v{self.hooks_version}/{self.hooks_asset}"

    @property
    def hooks_novolume_asset(self) -> str:
        # Upstream publishes no separate novolume zip: k8s-novolume/ is the
        # k8s asset of another (0.8.0+) release, as in upstream's Dockerfile.
        return hooks_asset_name(self.hooks_novolume_version)

    @property
    def hooks_novolume_url(self) -> str:
        return f"{self.hooks_base_url}/v{self.hooks_novolume_version}/{self.hooks_novolume_asset}"


def hooks_asset_name(version: str) -> str:
    """The k8s hooks asset of one runner-container-hooks release (its only k8s asset)."""
    return f"actions-runner-hooks-k8s-{version}.zip"


# Settings shared by every arch and layout of one run: RunnerSpec field -> the
# name the module object's arguments and the CLI's common flags give it. The
# sums are "checksum" there: `dagger call` spells a name's digits as words of
# their own (runner_sha256 would be --runner-sha-256), so no flag has digits.
SHARED_SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "runner_version": "runner_version",
        "hooks_version": "hooks_version",
        "hooks_novolume_version": "hooks_novolume_version",
        "base_image": "base_image",
        "runner_base_url": "runner_base_url",
        "hooks_base_url": "hooks_base_url",
        "github_api_url": "github_api_url",
        "hooks_sha256": "hooks_checksum",
        "hooks_novolume_sha256": "hooks_novolume_checksum",
        "allow_unverified": "allow_unverified",
        "novolume_hooks": "novolume_hooks",
        "docker_cli": "docker_cli",
        "docker_version": "docker_version",
        "buildx_version": "buildx_version",
        "docker_apt_url": "docker_apt_url",
        "docker_key_fingerprint": "docker_key_fingerprint",
        "extra_packages": "extra_packages",
        "source": "source_url",  # merge's --source names its input images
        "revision": "revision",
        "created": "created",
    }
)
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
        sums[arch] = str(check_sha256(f"runner_checksum {arch}", sha))
    return sums


def spec_from_settings(settings: object, *, arch: str, layout: str, ca_certificates: Sequence[str] = ()) -> RunnerSpec:
    """The spec for one arch and layout, from an object holding SHARED_SETTINGS' names.

    The runner sum is the settings' ``runner_checksums`` entry for arch, if any.
    ca_certificates are the PEM texts the front door read from its files (a
    module's Files are read with an await, a path with open), so they are not
    one of SHARED_SETTINGS.
    """
    return RunnerSpec(
        **{field: getattr(settings, name) for field, name in SHARED_SETTINGS.items()},
        arch=arch,
        layout=layout,
        runner_sha256=parse_runner_checksums(getattr(settings, "runner_checksums", None)).get(arch),
        ca_certificates=tuple(ca_certificates),
    )
