"""Build and smoke-test several specs at once; all must pass."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import dagger

from pipelines.build import Archives, build
from pipelines.concurrently import gather
from pipelines.errors import InvalidSpecError
from pipelines.smoke import smoke_test
from pipelines.spec import RunnerSpec

__all__ = ["Archives", "Verified", "build_and_test", "check_specs", "report", "verify_all"]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Verified:
    """A built image that passed its smoke test."""

    spec: RunnerSpec
    container: dagger.Container
    version: str


async def build_and_test(client: dagger.Client, spec: RunnerSpec, archives: Archives | None = None) -> Verified:
    """Build one image and smoke-test it."""
    ctr = await build(client, spec, archives)
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


def report(verified: Sequence[Verified]) -> str:
    """One line per image that passed, the same through both front doors."""
    return "\n".join(
        f"{v.spec.name}: ok, runner {v.version} starts as {v.spec.contract.user} from {v.spec.contract.run_sh}"
        for v in verified
    )


async def verify_all(
    client: dagger.Client, specs: Sequence[RunnerSpec], archives: Archives | None = None
) -> list[Verified]:
    """Build and smoke-test every spec concurrently; results in the order of specs."""
    check_specs(specs, archives)
    return await gather(*(functools.partial(build_and_test, client, spec, archives) for spec in specs))
