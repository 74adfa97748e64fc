"""The whole build of one spec: base -> fetch (verified) -> unpack -> system -> assemble.

Every Dagger value is lazy until awaited, and each await is a barrier. So the
build awaits only where a check must pass before anything uses its subject,
and awaits those checks together: the archives' sums, the final stage's
system layers (packages, user) and the base's os-release are worked on at
once, as `docker build` runs its two stages at once. Then the unpacked runner
is checked, and the image is returned as a graph for the caller to evaluate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools

import dagger

from pipelines.image.assemble import assemble, read_image_os
from pipelines.image.base import base_container
from pipelines.image.fetch import fetch_hooks, fetch_hooks_novolume, fetch_runner
from pipelines.image.system import system
from pipelines.image.unpack import unpack, unpack_stage
from pipelines.network.checksums import resolve_checksums
from pipelines.shared.concurrently import gather
from pipelines.shared.errors import EngineError, base_not_pulled
from pipelines.shared.spec import RunnerSpec


async def warm(ctr: dagger.Container) -> None:
    """Evaluate ctr now, so the engine works on it meanwhile; a failure shows again where ctr is used."""
    # On failure the same step runs again, and fails with its own message, where the image is used.
    with contextlib.suppress(dagger.QueryError):
        await ctr.sync()


# What each download step is called when the engine fails it (fetch's own errors name the asset).
FETCHES = ("downloading the runner", "downloading the k8s hooks", "downloading the k8s-novolume hooks")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Archives:
    """Local archives replacing downloads (air-gapped builds); None means download."""

    runner: dagger.File | None = None
    hooks: dagger.File | None = None
    hooks_novolume: dagger.File | None = None
    docker_apt_repo: dagger.Directory | None = None
    """A local copy of Docker's apt repository, for --docker-cli (see pipelines/image/docker_repo.py)."""


async def build(client: dagger.Client, spec: RunnerSpec, archives: Archives | None = None) -> dagger.Container:
    """The runner image for one spec; archives (and a copy of Docker's apt repository) given here replace downloads."""
    local = archives or Archives()
    runner_archive, hooks_archive, hooks_novolume_archive = local.runner, local.hooks, local.hooks_novolume
    docker_apt_repo = local.docker_apt_repo
    spec = await resolve_checksums(client, spec)
    base = base_container(client, spec.base_image, spec.platform)
    fetches = [
        functools.partial(fetch_runner, client, spec, runner_archive),
        functools.partial(fetch_hooks, client, spec, hooks_archive),
    ]
    if spec.novolume_hooks:
        fetches.append(functools.partial(fetch_hooks_novolume, client, spec, hooks_novolume_archive))

    async def runner_tree() -> dagger.Directory:
        # The unpack stage's tools install while the archives are checked.
        _, *archives = await gather(
            functools.partial(warm, unpack_stage(client, spec)),
            *fetches,
            steps=(f"installing unzip for the unpack stage on {spec.base_image}", *FETCHES[: len(fetches)]),
        )
        return await unpack(client, spec, *archives)

    async def system_part() -> dagger.Container:
        ctr = await system(client, spec, base, docker_apt_repo)
        await warm(ctr)
        return ctr

    try:
        imageos, system_ctr, runner_dir = await gather(
            functools.partial(read_image_os, base, spec),
            system_part,
            runner_tree,
            steps=(
                "reading the base's os-release",
                f"the system step (apt) on {spec.base_image}",
                "unpacking the runner",
            ),
        )
    except EngineError as e:
        # Every stage stands on the base: whichever step met an unpullable base first (the unpack
        # stage's, often, while the os-release read is cancelled), the base is the cause to name.
        if f'failed to resolve image "{spec.base_image}"' in e.said:
            raise base_not_pulled(spec.base_image, e.said) from e
        raise
    return assemble(spec, system_ctr, runner_dir, imageos)
