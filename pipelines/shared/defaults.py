"""The defaults of every setting that is not a switch: the pins (pins.toml) and where things come from.

The versions and the base come from pins.toml (pipelines/shared/pins.py), the
one copy a bump changes; the rest are not versions and change by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pipelines.shared.pins import PINS

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
