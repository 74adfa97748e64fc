"""The base image, as the final stage starts from it and as the build stages' tools run on it."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import dagger

from pipelines.shared.spec import RunnerSpec


def base_container(client: dagger.Client, spec: RunnerSpec) -> dagger.Container:
    """The base image for spec's platform; the final stage starts from it."""
    return client.container(platform=dagger.Platform(spec.platform)).from_(spec.base_image)


def tools_stage(client: dagger.Client, spec: RunnerSpec, tools: Sequence[str]) -> dagger.Container:
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
        .from_(spec.base_image)
        .with_env_variable("DEBIAN_FRONTEND", "noninteractive")
        .with_exec(["sh", "-c", install])
    )
