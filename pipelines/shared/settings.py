"""The bridge between the two front doors (ci/main.py's object, client mode's flags) and RunnerSpec."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from pipelines.shared.defaults import ARCHES, RUNNER_ARCH
from pipelines.shared.errors import InvalidSpecError, refused
from pipelines.shared.spec import RunnerSpec
from pipelines.shared.validators import check_sha256

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
