"""Build and smoke-test several specs at once; all must pass."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import dagger

from pipelines.build import build
from pipelines.concurrently import gather
from pipelines.errors import InvalidSpecError
from pipelines.smoke import smoke_test
from pipelines.spec import RunnerSpec


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Archives:
    """Local archives replacing downloads (air-gapped builds); None means download."""

    runner: dagger.File | None = None
    hooks: dagger.File | None = None
    hooks_novolume: dagger.File | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Verified:
    """A built image that passed its smoke test."""

    spec: RunnerSpec
    container: dagger.Container
    version: str


async def build_and_test(client: dagger.Client, spec: RunnerSpec, archives: Archives | None = None) -> Verified:
    """Build one image and smoke-test it."""
    a = archives or Archives()
    ctr = await build(client, spec, a.runner, a.hooks, a.hooks_novolume)
    return Verified(spec=spec, container=ctr, version=await smoke_test(ctr, spec))


def check_specs(specs: Sequence[RunnerSpec], archives: Archives | None = None) -> None:
    """Refuse an empty list, duplicates, and one runner archive for several arches."""
    names = [spec.name for spec in specs]
    if not names:
        msg = "specs: expected at least one arch to build, found none; pass --arch"
        raise InvalidSpecError(msg)
    if len(set(names)) != len(names):
        msg = f"specs: expected each arch/layout once, found {', '.join(names)}"
        raise InvalidSpecError(msg)
    arches = sorted({spec.arch for spec in specs})
    if archives and archives.runner is not None and len(arches) > 1:
        msg = (
            f"runner_archive: expected one arch with a local runner tarball (it is arch "
            f"specific), found {', '.join(arches)}; build one arch per call"
        )
        raise InvalidSpecError(msg)


async def verify_all(
    client: dagger.Client, specs: Sequence[RunnerSpec], archives: Archives | None = None
) -> list[Verified]:
    """Build and smoke-test every spec concurrently; results in the order of specs."""
    check_specs(specs, archives)
    return await gather(*(functools.partial(build_and_test, client, spec, archives) for spec in specs))
