"""The Dagger module's one object and its functions: each builds RunnerSpecs from the settings and calls pipelines.

The settings (the arguments before the function name) are runner_image/settings.py's;
the argument types several functions share are runner_image/arguments.py's.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Annotated

import dagger
from dagger import Doc, Name, dag

from pipelines.audit.chart import Mode
from pipelines.audit.check import check_table, image_to_check
from pipelines.audit.findings import SEVERITY_WORDS, parse_severity
from pipelines.audit.scan import ReportFormat, scan_table
from pipelines.current import updates as upstream_updates
from pipelines.current.look_up import Sources, look_up
from pipelines.image.base import base_container
from pipelines.image.build import build
from pipelines.network.checksums import resolve_checksums
from pipelines.network.vulnerability_db import latest_database
from pipelines.release.merge import merge
from pipelines.release.sbom import SBOM_NAME, sbom
from pipelines.release.smoke import smoke_test
from pipelines.release.tested import build_and_test_all, release, report
from pipelines.release.tools import GRYPE, SYFT
from pipelines.shared.contract import Layout
from pipelines.shared.defaults import GRYPE_DB_URL, Arch
from pipelines.shared.errors import SbomError, ScanError
from pipelines.shared.pins import PINS_FILE, PINS_PATH
from pipelines.shared.pins import parse as parse_pins
from pipelines.shared.reference import parse_reference
from pipelines.shared.validators import valid_base_url, valid_version
from runner_image.arguments import ArchArg, ArchesArg, GrypeSumArg, HoldsArg, LayoutArg, PinsFileArg, SyftSumArg
from runner_image.settings import Settings

# Dagger keeps a function's result for up to 7 days and answers a later call with the same
# arguments from it, without running the function. Functions that read or write what moves under
# the same arguments (upstream's newest releases, a registry's tags) opt out, so every call runs:
# `updates` sees a release published since the last call, `publish` pushes what the registry lacks.
EVERY_CALL_RUNS = "never"


@dagger.object_type
class RunnerImage(Settings):
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
    async def check(
        self,
        image: Annotated[
            str | None, Doc("Image to check by reference, e.g. ghcr.io/actions/actions-runner:latest (or --container)")
        ] = None,
        container: Annotated[
            dagger.Container | None,
            Doc("Image to check as a Container (dagger shell: check --container $(build))"),
        ] = None,
        modes: Annotated[
            list[Mode] | None,
            Name("mode"),
            Doc("Chart mode to check, repeatable (default: every mode of the image's layout)"),
        ] = None,
        arch: Annotated[Arch, Doc("Platform to pull --image for")] = Arch.AMD64,
        docker_socket: Annotated[
            dagger.Socket | None,
            Doc("A Docker daemon's socket for dind's daemon check, e.g. /var/run/docker.sock"),
        ] = None,
        username: Annotated[str | None, Doc("Registry user, to pull --image")] = None,
        password: Annotated[dagger.Secret | None, Doc("Registry password or token, to pull --image")] = None,
    ) -> str:
        """Check an image against what ARC's chart does in each mode; a table, failing if any check fails."""
        with self.handled():
            return await check_table(
                dag,
                image=image,
                container=container,
                modes=modes,
                arch=arch.value,
                docker_socket=docker_socket,
                username=username,
                password=password,
            )

    @dagger.function(cache=EVERY_CALL_RUNS)
    async def scan(
        self,
        grype: Annotated[
            dagger.File | None,
            Doc("A grype binary for the engine's platform, instead of the pinned release's (air-gapped)"),
        ] = None,
        grype_base_url: Annotated[
            str, Doc("Where grype's release assets are downloaded from (a mirror of it works)")
        ] = GRYPE.base_url,
        grype_checksum: GrypeSumArg = None,
        grype_db: Annotated[
            dagger.File | None,
            Doc("grype's database to use instead of the newest: a vulnerability.db, or an archive its listing serves"),
        ] = None,
        grype_db_url: Annotated[
            str, Doc("Where grype's database listing is (<url>/v6/latest.json), or a mirror of it")
        ] = GRYPE_DB_URL,
        # A str, not Severity | None: Dagger 0.21.8 refuses to load a module with an optional enum
        # argument whose default is None ("failed to patch module: enum name \"\" not found").
        report: Annotated[ReportFormat, Doc("What to return: the table, or grype's json or sarif report")] = (
            ReportFormat.TABLE
        ),
        fail_on: Annotated[
            str | None,
            Doc(
                "Fail when a vulnerability at or above this severity has a fix: " + SEVERITY_WORDS + " (default: never)"
            ),
        ] = None,
        image: Annotated[str | None, Doc("Image to scan by reference instead of ours (or --container)")] = None,
        container: Annotated[dagger.Container | None, Doc("Image to scan as a Container instead of ours")] = None,
        arch: Annotated[Arch, Doc("Architecture to build, or to pull --image for")] = Arch.AMD64,
        layout: LayoutArg = Layout.HOSTED,
        username: Annotated[str | None, Doc("Registry user, to pull --image")] = None,
        password: Annotated[dagger.Secret | None, Doc("Registry password or token, to pull --image")] = None,
    ) -> str:
        """The image's known vulnerabilities (ours by default), found by grype: a table, and a gate on fixable ones."""
        with self.handled():
            gate = parse_severity(fail_on, name="fail_on")  # refused before anything is built or pulled
            db_url = valid_base_url("grype_db_url", grype_db_url)
            grype_url = valid_base_url("grype_base_url", grype_base_url)
            base = None
            if image is None and container is None:
                (spec,) = await self.specs([arch], [layout])
                ctr, name = await build(dag, spec, self.archives()), spec.name
                base = base_container(dag, spec.base_image, spec.platform)
            else:
                ctr, name = await image_to_check(
                    dag,
                    image=image,
                    container=container,
                    arch=arch.value,
                    username=username,
                    password=password,
                    error=ScanError,
                )
            database = grype_db or await latest_database(dag, db_url)
            grype = await self.tool(GRYPE, grype, grype_url, grype_checksum, ScanError)
            return await scan_table(
                dag, ctr, name=name, grype=grype, database=database, base=base, fail_on=gate, output=report
            )

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
        # The base is read where the build reads it (--base-image); bump never rewrites it.
        pinned = dataclasses.replace(pinned, base_image=str(parse_reference(self.base_image, name="base_image")))
        now = datetime.datetime.now(tz=datetime.UTC)
        return text, await look_up(dag, pinned, sources, now=now)
