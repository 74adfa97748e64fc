"""The whole build: base -> fetch (verified) -> unpack -> assemble."""

from __future__ import annotations

import dagger

from pipelines.assemble import assemble
from pipelines.checksums import resolve_checksums
from pipelines.fetch import fetch_hooks, fetch_hooks_novolume, fetch_runner
from pipelines.spec import RunnerSpec
from pipelines.unpack import unpack


def base_container(client: dagger.Client, spec: RunnerSpec) -> dagger.Container:
    """The base image for spec's platform; both stages start from it."""
    return client.container(platform=dagger.Platform(spec.platform)).from_(spec.base_image)


async def build(
    client: dagger.Client,
    spec: RunnerSpec,
    runner_archive: dagger.File | None = None,
    hooks_archive: dagger.File | None = None,
    hooks_novolume_archive: dagger.File | None = None,
) -> dagger.Container:
    """The runner image for one spec; archives given here replace the downloads."""
    spec = await resolve_checksums(client, spec)
    base = base_container(client, spec)
    runner = await fetch_runner(client, spec, runner_archive)
    hooks = await fetch_hooks(client, spec, hooks_archive)
    novolume = await fetch_hooks_novolume(client, spec, hooks_novolume_archive) if spec.novolume_hooks else None
    runner_dir = await unpack(client, spec, base, runner, hooks, novolume)
    return await assemble(client, spec, base, runner_dir)
