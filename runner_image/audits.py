"""The module's audit functions: check an image against ARC's chart, scan it, and say what a new base fixes.

RunnerImage (runner_image/main.py) takes them from this class, as it takes its
settings from Settings: Dagger reads every function of the object's classes.
"""

from __future__ import annotations

import functools
from typing import Annotated

import dagger
from dagger import Doc, Name, dag

from pipelines.audit.base_fixes import base_fixes
from pipelines.audit.chart import Mode
from pipelines.audit.check import check_table, image_to_check
from pipelines.audit.findings import SEVERITY_WORDS, parse_severity
from pipelines.audit.scan import ReportFormat, scan_table
from pipelines.image.base import base_container
from pipelines.image.build import build
from pipelines.network.vulnerability_db import given_or_latest, listing_url
from pipelines.release.tools import GRYPE
from pipelines.shared.contract import Layout
from pipelines.shared.defaults import GRYPE_DB_URL, Arch
from pipelines.shared.errors import ScanError
from pipelines.shared.validators import valid_base_url
from runner_image.arguments import GrypeArg, GrypeBaseUrlArg, GrypeDbArg, GrypeDbUrlArg, GrypeSumArg, LayoutArg
from runner_image.settings import EVERY_CALL_RUNS, Settings


class Audits(Settings):
    """check, scan and base-fixes: what an image holds, measured against ARC's chart and known vulnerabilities."""

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
        grype: GrypeArg = None,
        grype_base_url: GrypeBaseUrlArg = GRYPE.base_url,
        grype_checksum: GrypeSumArg = None,
        grype_db: GrypeDbArg = None,
        grype_db_url: GrypeDbUrlArg = GRYPE_DB_URL,
        # A str, not Severity | None: Dagger 0.21.8 refuses to load a module with an optional enum
        # argument whose default is None ("failed to patch module: enum name \"\" not found").
        report: Annotated[
            ReportFormat, Doc("What to return: the table, grype's json or sarif report, or in-toto's vulns predicate")
        ] = ReportFormat.TABLE,
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
            database = await given_or_latest(dag, grype_db, db_url)
            source = f"the file given as --grype-db ({await grype_db.name()})" if grype_db else listing_url(db_url)
            grype = await self.tool(GRYPE, grype, grype_url, grype_checksum, ScanError)
            return await scan_table(
                dag, ctr, name=name, grype=grype, database=database, base=base, fail_on=gate, output=report,
                database_source=source,
            )  # fmt: skip

    @dagger.function(cache=EVERY_CALL_RUNS)
    async def base_fixes(
        self,
        grype: GrypeArg = None,
        grype_base_url: GrypeBaseUrlArg = GRYPE.base_url,
        grype_checksum: GrypeSumArg = None,
        grype_db: GrypeDbArg = None,
        grype_db_url: GrypeDbUrlArg = GRYPE_DB_URL,
        arch: Annotated[Arch, Doc("Architecture whose images are compared")] = Arch.AMD64,
    ) -> str:
        """Markdown: the base's known vulnerabilities its tag's new digest no longer has (empty: it did not move)."""
        with self.handled():
            database = functools.partial(given_or_latest, dag, grype_db, valid_base_url("grype_db_url", grype_db_url))
            tool = functools.partial(self.tool, GRYPE, grype, grype_base_url, grype_checksum, ScanError)
            return await base_fixes(
                dag, base=self.base_image, platform=f"linux/{arch.value}", grype=tool, database=database
            )
