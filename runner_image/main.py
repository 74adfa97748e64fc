"""The Dagger module's one object and its functions: each builds RunnerSpecs from the settings and calls pipelines.

The settings (the arguments before the function name) are runner_image/settings.py's;
check, scan and base-fixes are runner_image/audits.py's (a class it inherits, as it does
the settings); the argument types several functions share are runner_image/arguments.py's.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Annotated

import dagger
from dagger import Doc, Name, dag

from pipelines.current import updates as upstream_updates
from pipelines.current.look_up import Sources, look_up
from pipelines.image.build import build
from pipelines.network.checksums import resolve_checksums
from pipelines.release.merge import merge
from pipelines.release.sbom import SBOM_NAME, sbom
from pipelines.release.smoke import smoke_test
from pipelines.release.tested import build_and_test_all, release, report
from pipelines.release.tools import SYFT
from pipelines.shared.contract import Layout
from pipelines.shared.defaults import Arch
from pipelines.shared.errors import SbomError
from pipelines.shared.pins import PINS_FILE, PINS_PATH
from pipelines.shared.pins import parse as parse_pins
from pipelines.shared.reference import parse_reference
from pipelines.shared.validators import valid_base_url, valid_version
from runner_image.arguments import (
    ArchArg,
    ArchesArg,
    HoldsArg,
    LayoutArg,
    PinsFileArg,
    SyftSumArg,
)
from runner_image.audits import Audits
from runner_image.settings import EVERY_CALL_RUNS


@dagger.object_type
class RunnerImage(Audits):
    """The actions-runner image for ARC: build, smoke-test, publish."""

    @dagger.function
    async def build(
        self,
        arch: ArchArg = Arch.AMD64,
        layout: LayoutArg = Layout.HOSTED,
    ) -> dagger.Container:
        """Build the runner image for one arch and layout (downloads verified first)."""
        with self.handled():
            (spec,) = await self.specs([arch], [layout])
            return await build(dag, spec, self.archives())

    @dagger.function
    async def smoke_test(
        self,
        arch: ArchArg = Arch.AMD64,
        layout: LayoutArg = Layout.HOSTED,
    ) -> str:
        """Build, then run run.sh --version as the image user; return the version it printed."""
        with self.handled():
            (spec,) = await self.specs([arch], [layout])
            ctr = await build(dag, spec, self.archives())
            return await smoke_test(ctr, spec)

    @dagger.function
    async def sbom(
        self,
        syft: Annotated[
            dagger.File | None,
            Doc("A syft binary for the engine's platform, instead of the pinned release's (air-gapped)"),
        ] = None,
        syft_base_url: Annotated[
            str, Doc("Where syft's release assets are downloaded from (a mirror of it works)")
        ] = SYFT.base_url,
        syft_checksum: SyftSumArg = None,
        arch: ArchArg = Arch.AMD64,
        layout: LayoutArg = Layout.HOSTED,
    ) -> dagger.File:
        """Build one image; return its SPDX JSON SBOM made by syft, with the runner and hooks added."""
        with self.handled():
            (one,) = await self.specs([arch], [layout])
            spec = await resolve_checksums(dag, one)
            ctr = await build(dag, spec, self.archives())
            text = await sbom(dag, spec, ctr, await self.tool(SYFT, syft, syft_base_url, syft_checksum, SbomError))
            return dag.directory().with_new_file(SBOM_NAME, text).file(SBOM_NAME)

    @dagger.function
    async def ci(
        self,
        arches: ArchesArg = None,
    ) -> str:
        """Build and smoke-test both layouts for each arch, concurrently; return a report."""
        with self.handled():
            specs = await self.specs(arches or list(Arch), list(Layout))
            return report(await build_and_test_all(dag, specs, self.archives()))

    @dagger.function(cache=EVERY_CALL_RUNS)
    async def merge(
        self,
        sources: Annotated[
            list[str],
            Name("source"),
            Doc("A per-arch image pushed by publish --arch <one>, by tag or digest; repeatable, one per arch"),
        ],
        addresses: Annotated[
            list[str],
            Name("address"),
            Doc("Release address to tag the index with, e.g. ghcr.io/owner/actions-runner:2.337.0; repeatable"),
        ],
        arches: Annotated[
            list[Arch] | None, Name("arch"), Doc("Architectures the index must hold, repeatable (default: all)")
        ] = None,
        layout: Annotated[Layout, Doc("Layout every source must carry in its dev.runner-image.layout label")] = (
            Layout.HOSTED
        ),
        username: Annotated[str | None, Doc("Registry user")] = None,
        password: Annotated[dagger.Secret | None, Doc("Registry password or token")] = None,
    ) -> str:
        """Check per-arch images (platform, layout, runner version); only if all fit, tag one index: ref@digest."""
        with self.handled():
            return await merge(
                dag,
                sources,
                addresses,
                arches=[a.value for a in arches or list(Arch)],
                layout=layout,
                runner_version=valid_version("runner_version", self.runner_version),
                username=username,
                password=password,
            )

    @dagger.function(cache=EVERY_CALL_RUNS)
    async def publish(
        self,
        address: Annotated[str, Doc("Where to push, e.g. ghcr.io/owner/actions-runner:2.337.0")],
        arches: ArchesArg = None,
        layout: LayoutArg = Layout.HOSTED,
        username: Annotated[str | None, Doc("Registry user")] = None,
        password: Annotated[dagger.Secret | None, Doc("Registry password or token")] = None,
    ) -> str:
        """Build and smoke-test every arch; only if all pass, push one image. Returns ref@digest."""
        with self.handled():
            specs = await self.specs(arches or list(Arch), [layout])
            return await release(dag, specs, address, username, password, self.archives())

    @dagger.function(cache=EVERY_CALL_RUNS)
    async def updates(
        self,
        fail_within: Annotated[
            int | None, Doc("Fail when the pinned runner has fewer days left before GitHub stops sending it jobs")
        ] = None,
        holds: HoldsArg = None,
        pins_file: PinsFileArg = None,
    ) -> str:
        """Read-only: each pin of pipelines/pins.toml against upstream's newest, with both sums and the deadline."""
        with self.handled():
            _, rows = await self.upstream_rows(holds, pins_file)
            upstream_updates.check_deadline(rows, fail_within)
            return upstream_updates.render(rows)

    @dagger.function(cache=EVERY_CALL_RUNS)
    async def bump(self, holds: HoldsArg = None, pins_file: PinsFileArg = None) -> dagger.File:
        """pipelines/pins.toml rewritten with every update that updates can vouch for (export it over the file)."""
        with self.handled():
            text, rows = await self.upstream_rows(holds, pins_file)
            bumped = upstream_updates.bumped(text, rows)
            return dag.directory().with_new_file(PINS_FILE.name, bumped).file(PINS_FILE.name)

    async def upstream_rows(
        self, holds: list[str] | None, pins_file: dagger.File | None
    ) -> tuple[str, list[upstream_updates.Row]]:
        """The pins text and the rows of updates and bump (a plain method, not exposed)."""
        text = await pins_file.contents() if pins_file else PINS_FILE.read_text(encoding="utf-8")
        pinned = parse_pins(text, where="the file given as --pins-file" if pins_file else PINS_PATH)
        sources = Sources(
            github_api_url=valid_base_url("github_api_url", self.github_api_url),
            docker_apt_url=valid_base_url("docker_apt_url", self.docker_apt_url),
            holds=upstream_updates.holds(pinned, holds),
        )
        # The base is read where the build reads it (--base-image); bump pins it at its tag's digest of now.
        pinned = dataclasses.replace(pinned, base_image=str(parse_reference(self.base_image, name="base_image")))
        now = datetime.datetime.now(tz=datetime.UTC)
        return text, await look_up(dag, pinned, sources, now=now)
