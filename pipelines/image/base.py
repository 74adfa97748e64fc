"""The base image, as the final stage starts from it and as the build stages' tools run on it.

It takes the base's reference and platform, not the whole RunnerSpec: what it
needs, and so it stands on the ground floor with the stages above it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import dagger


def base_container(client: dagger.Client, base_image: str, platform: str) -> dagger.Container:
    """The base image for the image's platform (linux/amd64, linux/arm64); the final stage starts from it."""
    return client.container(platform=dagger.Platform(platform)).from_(base_image)


def tools_stage(client: dagger.Client, base_image: str, tools: Sequence[str]) -> dagger.Container:
    """The base on the engine's own platform with build-time tools (no recommends, lists dropped): not arch specific.

    Nothing of it reaches the image, so apt runs here the plain one-step way.
    """
    install = (
        "apt-get -o Acquire::Languages=none update"  # package descriptions' translations: not needed to install
        f" && apt-get install -y --no-install-recommends {' '.join(shlex.quote(t) for t in tools)}"
        " && rm -rf /var/lib/apt/lists/*"
    )
    return (
        client.container()
        .from_(base_image)
        .with_env_variable("DEBIAN_FRONTEND", "noninteractive")
        .with_exec(["sh", "-c", install])
    )
