"""Build and smoke-test several specs at once; all must pass."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import anyio
import dagger

from pipelines.build import build
from pipelines.errors import InvalidSpecError, RunnerImageError
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
    results: dict[int, Verified] = {}

    async def one(index: int, spec: RunnerSpec) -> None:
        results[index] = await build_and_test(client, spec, archives)

    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            for index, spec in enumerate(specs):
                tg.start_soon(one, index, spec)
    except BaseExceptionGroup as group:
        failure = unwrap(group)
    if failure is not None:
        raise failure  # outside the handler, so each error keeps its own cause
    return [results[index] for index in range(len(specs))]


def unwrap(group: BaseExceptionGroup) -> BaseException:
    """One of our errors as itself, several as one RunnerImageError, else the group."""
    leaves = _leaves(group)
    if not all(isinstance(e, RunnerImageError) for e in leaves):
        return group
    if len(leaves) == 1:
        return leaves[0]
    kinds = {type(e) for e in leaves}
    if len(kinds) == 1:  # same stage: its prefix is printed once
        kind = kinds.pop()
        return kind(" | ".join(str(e.args[0]) if e.args else "" for e in leaves))
    return RunnerImageError(" | ".join(str(e) for e in leaves))


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    found: list[BaseException] = []
    for e in group.exceptions:
        found.extend(_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    return found
