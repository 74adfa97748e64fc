"""Where things come from, and the arches (Arch): the defaults that are not versions, changed by hand.

The versions and the base are pins, in pipelines/shared/pins.py (read from
pins.toml, the one copy a bump changes). This module imports nothing of the
package, so the validators can take its examples without reaching the pins.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import dagger

# --- Where things come from ------------------------------------------------------
RUNNER_BASE_URL = "https://github.com/actions/runner/releases/download"
HOOKS_BASE_URL = "https://github.com/actions/runner-container-hooks/releases/download"
GITHUB_API_URL = "https://api.github.com"
GRYPE_DB_URL = "https://grype.anchore.io/databases"  # grype's own default: where its listing is
DEFAULT_ARCH = "amd64"
DOCKER_APT_URL = "https://download.docker.com/linux"
DOCKER_KEY_FINGERPRINT = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"  # Docker's release key

# Docker/OCI architecture -> architecture in the runner's asset name. The runner
# also ships 32-bit `arm`; it is not offered here (no user asked for it).
RUNNER_ARCH: Mapping[str, str] = MappingProxyType({"amd64": "x64", "arm64": "arm64"})
ARCHES: tuple[str, ...] = tuple(RUNNER_ARCH)


# One enum for both doors, as Layout. Member names are what `dagger call`
# matches flag values against, ignoring case. The engine keeps a name made of
# capitals and digits as it is, and turns any other into SCREAMING_SNAKE_CASE
# (`amd64` would become AMD_64, and `--arch amd64` would be refused), so
# members are named AMD64, not amd64.
@dagger.enum_type
class Arch(enum.Enum):
    """CPU architecture of the image, in Docker/OCI names."""

    AMD64 = "amd64"
    """x86-64 (the runner's asset says x64)."""

    ARM64 = "arm64"
    """64-bit ARM."""
