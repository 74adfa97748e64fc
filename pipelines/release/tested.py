"""Build and smoke-test several specs at once; all must pass, and release publishes them only then."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import dagger

from pipelines.image.build import Archives, build
from pipelines.release.publish import check_credentials, publish, valid_address
from pipelines.release.smoke import smoke_test
from pipelines.shared.concurrently import gather
from pipelines.shared.errors import InvalidSpecError, PublishError
from pipelines.shared.spec import RunnerSpec


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Passed:
    """A built image that passed its smoke test."""

    spec: RunnerSpec
    container: dagger.Container
    version: str


async def build_and_test(client: dagger.Client, spec: RunnerSpec, archives: Archives | None = None) -> Passed:
    """Build one image and smoke-test it."""
    ctr = await build(client, spec, archives)
    return Passed(spec=spec, container=ctr, version=await smoke_test(ctr, spec))


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


def report(passed: Sequence[Passed]) -> str:
    """One line per image that passed, the same through both front doors."""
    return "\n".join(
        f"{v.spec.name}: ok, runner {v.version} starts as {v.spec.contract.user} from {v.spec.contract.run_sh}"
        for v in passed
    )


async def build_and_test_all(
    client: dagger.Client, specs: Sequence[RunnerSpec], archives: Archives | None = None
) -> list[Passed]:
    """Build and smoke-test every spec concurrently; results in the order of specs."""
    check_specs(specs, archives)
    return await gather(
        *(functools.partial(build_and_test, client, spec, archives) for spec in specs),
        steps=[f"building and smoke-testing {spec.name}" for spec in specs],
    )


async def release(
    client: dagger.Client,
    specs: Sequence[RunnerSpec],
    address: str,
    username: str | None = None,
    password: dagger.Secret | None = None,
    archives: Archives | None = None,
) -> str:
    """Build and smoke-test every spec; only if all pass, publish them once."""
    valid_address(address)
    check_credentials(username, password)
    check_specs(specs, archives)
    arches = [spec.arch for spec in specs]
    if len(set(arches)) != len(arches):
        msg = f'address "{address}": expected one image per arch, found arches {", ".join(arches)}'
        raise PublishError(msg)
    passed = await build_and_test_all(client, specs, archives)
    return await publish(client, [p.container for p in passed], address, username, password)
