"""scan: an image's known vulnerabilities, found by grype, and the gate on the fixable ones.

grype comes in as a file (a static binary for the engine's platform) with its
vulnerability database (the archive grype's own listing serves, or its
vulnerability.db), run in an empty container on the image exported as an OCI
tarball, as sbom runs syft: nothing leaves the engine, and the database is
the one given. `grype db import` installs it the way grype's air-gapped users
do; grype still refuses a database older than its maximum age, so a stale one
is an error here, never a clean report.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from typing import Any

import dagger

from pipelines.audit.findings import Layout, Severity, blocking, database_built, findings, render
from pipelines.audit.vulns_predicate import vulns_predicate
from pipelines.shared.contract import HOSTED_CONTRACT, MINIMAL_CONTRACT
from pipelines.shared.errors import ScanError, shown

GRYPE = "/grype"
IMAGE_TAR = "/image.tar"
DB_IN = "/in"
DB_CACHE = "/grype-db"
REPORT = "/out/report.json"
SARIF = "/out/report.sarif"
SCRATCH = "/scratch"  # a fresh tmpfs of this one container: grype unpacks layers in TMPDIR
RUNNER_ROOTS = (HOSTED_CONTRACT.runner_dir, MINIMAL_CONTRACT.runner_dir)
DPKG_STATUS = "/var/lib/dpkg/status"
TOO_OLD = "the vulnerability database was built"  # grype's words when a database passed its maximum age


def grype_container(client: dagger.Client, grype: dagger.File, database: dagger.File, db_name: str) -> dagger.Container:
    """An empty container holding grype and its database, imported, with no update check to make."""
    return (
        client.container()
        .with_file(GRYPE, grype, permissions=0o755)
        .with_mounted_file(f"{DB_IN}/{db_name}", database)
        .with_directory("/out", client.directory())
        .with_mounted_temp(SCRATCH)
        .with_env_variable("TMPDIR", SCRATCH)
        .with_env_variable("HOME", SCRATCH)
        .with_env_variable("GRYPE_DB_CACHE_DIR", DB_CACHE)
        .with_env_variable("GRYPE_DB_AUTO_UPDATE", "false")  # the database given, no other
        .with_env_variable("GRYPE_CHECK_FOR_APP_UPDATE", "false")
        .with_exec([GRYPE, "db", "import", f"{DB_IN}/{db_name}"])
    )


@dagger.enum_type
class ReportFormat(enum.Enum):
    """What scan returns: its table, or grype's own report for tools."""

    TABLE = "table"
    """A title line and a Markdown table, one row per known vulnerability."""

    JSON = "json"
    """grype's JSON report, as `grype -o json` writes it."""

    SARIF = "sarif"
    """grype's SARIF 2.1.0 report (GitHub code scanning takes it)."""

    VULNS = "vulns"
    """in-toto's vulnerability predicate of the scan (actions/attest takes it: vulns_predicate.py)."""


@dataclasses.dataclass(frozen=True)
class Reports:
    """grype's reports of one scan: its JSON, read, and the texts asked for as it wrote them."""

    report: dict[str, Any]
    texts: dict[ReportFormat, str]


async def grype_report(
    client: dagger.Client,
    image: dagger.Container,
    grype: dagger.File,
    database: dagger.File,
    *,
    name: str,
    sarif: bool = False,
) -> Reports:
    """grype's reports of image; a ScanError naming the step when grype refused the database or the image."""
    db_name = await database.name()
    tarball = image.as_tarball(media_types=dagger.ImageMediaTypes.OCIMediaTypes)
    imported = grype_container(client, grype, database, db_name)
    try:
        await imported.sync()
    except dagger.ExecError as e:
        msg = (
            f"grype_db {shown(db_name)}: expected a grype vulnerability database (the archive grype's listing serves, "
            f"or its vulnerability.db), grype exited {e.exit_code} importing it: {e.stderr.strip()[-800:]}; "
            "pass a database grype of this version reads (grype db list shows where to get one)"
        )
        raise ScanError(msg) from e
    scan = imported.with_mounted_file(IMAGE_TAR, tarball).with_exec(
        [GRYPE, f"oci-archive:{IMAGE_TAR}", "--output", f"json={REPORT}", "--output", f"sarif={SARIF}"]
    )
    try:
        text = await scan.file(REPORT).contents()
    except dagger.ExecError as e:
        said = e.stderr.strip()[-800:]
        if TOO_OLD in said:
            msg = (
                f"grype_db {shown(db_name)}: expected a database younger than grype's maximum age, grype refused it: "
                f"{said}; pass a newer one (grype db list shows the newest): an old database would miss what "
                "was found since, so nothing is reported"
            )
        else:
            msg = f"{name}: expected grype to scan it, it exited {e.exit_code}: {said}"
        raise ScanError(msg) from e
    try:
        report = json.loads(text)
    except json.JSONDecodeError as e:
        msg = f"{name}: expected grype's JSON report, found {text[:200]!r}; check the grype binary passed"
        raise ScanError(msg) from e
    texts = {ReportFormat.JSON: text}
    if sarif:  # grype wrote it in the same run; read only when asked
        texts[ReportFormat.SARIF] = await scan.file(SARIF).contents()
    return Reports(report=report, texts=texts)


async def debian_packages(ctr: dagger.Container | None) -> frozenset[str] | None:
    """The Debian package names installed in ctr (its dpkg status), or None when there is no ctr."""
    if ctr is None:
        return None
    status = await ctr.file(DPKG_STATUS).contents()
    return frozenset(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Package:"))


async def scan_table(
    client: dagger.Client,
    image: dagger.Container,
    *,
    name: str,
    grype: dagger.File,
    database: dagger.File,
    base: dagger.Container | None = None,
    fail_on: Severity | None = None,
    output: ReportFormat = ReportFormat.TABLE,
    database_source: str = "unknown",
) -> str:
    """The report's title and table (or grype's JSON or SARIF report, as output asks); a ScanError holding the
    table when --fail-on refuses a fixable finding, whichever the output.

    base, when known (our own image's), tells the base image's packages from the ones added on top;
    database_source says where the database came from, in the vulns predicate.
    """
    started = datetime.datetime.now(tz=datetime.UTC)
    reports = await grype_report(client, image, grype, database, name=name, sarif=output is ReportFormat.SARIF)
    finished = datetime.datetime.now(tz=datetime.UTC)
    layout = Layout(base_packages=await debian_packages(base), runner_roots=RUNNER_ROOTS)
    found = findings(reports.report, layout)
    text = render(name, database_built(reports.report), found)
    refused = blocking(found, fail_on)
    if fail_on is not None and refused:
        ids = ", ".join(sorted({f.vulnerability for f in refused}))
        have = "1 vulnerability at or above it has" if len(refused) == 1 else f"{len(refused)} at or above it have"
        msg = (
            f"fail_on {fail_on.value}: {have} a fix ({ids}); rebuild on the fixed versions (a new base, bump), "
            f"or raise --fail-on\n\n{text}"
        )
        raise ScanError(msg)
    if output is ReportFormat.VULNS:
        predicate = vulns_predicate(reports.report, database=database_source, started=started, finished=finished)
        return json.dumps(predicate, indent=2) + "\n"
    return reports.texts.get(output, text)
