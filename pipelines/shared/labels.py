"""The image's label names: assemble writes them; merge, check and the release scripts read them back."""

from __future__ import annotations

OCI = "org.opencontainers.image"
VERSION_LABEL = f"{OCI}.version"  # the runner's version
HOOKS_LABEL = "dev.runner-image.hooks.version"  # k8s/
HOOKS_NOVOLUME_LABEL = "dev.runner-image.hooks-novolume.version"  # k8s-novolume/, when shipped
DOCKER_LABEL = "dev.runner-image.docker.version"  # docker-ce-cli, when shipped
BUILDX_LABEL = "dev.runner-image.buildx.version"  # docker-buildx-plugin, when shipped
LAYOUT_LABEL = "dev.runner-image.layout"
EXTRA_PACKAGES_LABEL = "dev.runner-image.extra-packages"  # what --extra-package added, when any
CA_CERTIFICATES_LABEL = "dev.runner-image.ca-certificates"  # SHA-256 of each --ca-certificate, when any
