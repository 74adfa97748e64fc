"""scan: the real grype on real images, against a database built from advisories written here.

The advisories name packages the images really hold: sudo, which the hosted
layout adds (fixed in a version above the installed one), and tar, which the
base image carries (no fix yet). A third names a package no image holds.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import dagger
import pytest

from pipelines.audit.findings import NO_FIX, Severity, Where, parse_severity
from pipelines.audit.scan import ReportFormat, scan_table
from pipelines.image.base import base_container
from pipelines.image.build import build
from pipelines.network.vulnerability_db import latest_database
from pipelines.release.tools import GRYPE, Tool, official_tool
from pipelines.shared.contract import Layout
from pipelines.shared.errors import InvalidSpecError, ScanError
from pipelines.shared.pins import GRYPE_INSTALL
from tests.engine import vulnerability_db
from tests.engine.fake_upstream import FakeUpstream, serve_tool_release
from tests.engine.fixtures import FileServer, ReleaseMirror
from tests.engine.test_check import client_mode
from tests.engine.test_dagger_call import dagger as dagger_cli
from tests.engine.test_dagger_call import local_settings
from tests.engine.test_pipeline import make_spec
from tests.engine.vulnerability_db import Advisory, NpmAdvisory
from tests.tools import found_or_stop

pytestmark = pytest.mark.anyio

FIXED = Advisory("CVE-2099-0001", "sudo", "99:1.0-1", "High")  # above any installed sudo: its epoch
UNFIXED = Advisory("CVE-2099-0002", "tar", "", "Critical")
ELSEWHERE = Advisory("CVE-2099-0003", "no-such-package", "1.0-1", "Critical")
# npm's tar, which the runner's own Node.js bundles (as actions/runner#4620 reports of a real one).
BUNDLED = NpmAdvisory("GHSA-test-0000-0001", "tar", "< 6.2.1", "6.2.1", "Medium")
BUNDLED_AT = "externals/node20/lib/node_modules/npm/node_modules/tar/package.json"


@pytest.fixture(scope="module")
def grype_path() -> str:
    reason = f"grype not found on PATH; install it with: {GRYPE_INSTALL} (.ci/run does)"
    return found_or_stop(shutil.which("grype"), reason, skipping="scan tests")


@pytest.fixture(scope="module")
def database(tools_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return vulnerability_db.database(
        tools_cache, tmp_path_factory.mktemp("grype-db"), [FIXED, UNFIXED, ELSEWHERE, BUNDLED]
    )


async def test_our_image_lists_each_known_vulnerability_where_it_sits_and_the_gate_counts_fixable_ones(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, grype_path: str, database: Path
) -> None:
    spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED)
    image, base = await build(dag, spec), base_container(dag, spec.base_image, spec.platform)
    grype, db = dag.host().file(grype_path), dag.host().file(str(database))
    # The fixture runner bundles no npm packages; a real one does, under its node's lib/node_modules.
    bundled = image.with_new_file(f"/home/runner/{BUNDLED_AT}", '{"name": "tar", "version": "6.1.0"}\n')

    table = await scan_table(dag, bundled, name=spec.name, grype=grype, database=db, base=base)

    sudo = await image.with_exec(["dpkg-query", "-W", "-f", "${Version}", "sudo"]).stdout()
    tar = await image.with_exec(["dpkg-query", "-W", "-f", "${Version}", "tar"]).stdout()
    lines = table.splitlines()
    assert lines[0].startswith(f"scan {spec.name} (vulnerability database built 20"), table
    assert lines[0].endswith("3 known vulnerabilities, 2 with a fix"), table
    assert lines[4:] == [
        f"| tar | {tar} | {UNFIXED.cve} | Critical | {NO_FIX} | {Where.BASE.value} |",
        f"| sudo | {sudo} | {FIXED.cve} | High | {FIXED.fixed_in} | {Where.ADDED.value} |",
        f"| tar | 6.1.0 | {BUNDLED.ghsa} | Medium | {BUNDLED.fixed_in} | {Where.RUNNER.value} |",
    ], table

    # The gate: a fixable High refuses at high, the unfixable Critical never does.
    assert await scan_table(dag, image, name=spec.name, grype=grype, database=db, fail_on=Severity.CRITICAL)
    with pytest.raises(ScanError) as caught:
        await scan_table(dag, image, name=spec.name, grype=grype, database=db, fail_on=Severity.HIGH)
    said = str(caught.value)
    assert said.startswith(f"scan: fail_on high: 1 vulnerability at or above it has a fix ({FIXED.cve})"), said
    assert f"| sudo | {sudo} | {FIXED.cve} |" in said  # the table comes with the refusal

    # grype's own reports, for tools: the same findings.
    grype_json = await scan_table(dag, bundled, name=spec.name, grype=grype, database=db, output=ReportFormat.JSON)
    ids = {m["vulnerability"]["id"] for m in json.loads(grype_json)["matches"]}
    assert ids == {FIXED.cve, UNFIXED.cve, BUNDLED.ghsa}
    sarif = json.loads(
        await scan_table(dag, bundled, name=spec.name, grype=grype, database=db, output=ReportFormat.SARIF)
    )
    assert sarif["version"] == "2.1.0"
    rules = " ".join(result["ruleId"] for result in sarif["runs"][0]["results"])
    assert all(vuln in rules for vuln in ids), rules

    # An image without the fixable package passes the same gate: the base alone.
    alone = await scan_table(dag, base, name="the base", grype=grype, database=db, fail_on=Severity.HIGH)
    assert "1 known vulnerability, 0 with a fix" in alone
    assert f"| tar | {tar} | {UNFIXED.cve} | Critical | {NO_FIX} | {Where.SYSTEM.value} |" in alone


async def test_a_database_too_old_or_not_a_database_is_an_error_never_a_clean_report(
    dag: dagger.Client, base_image: str, grype_path: str, tools_cache: Path, tmp_path: Path
) -> None:
    base = base_container(dag, base_image, "linux/amd64")
    grype = dag.host().file(grype_path)
    month_ago = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=30)
    old = vulnerability_db.database(tools_cache, tmp_path / "old", [UNFIXED], built=month_ago)
    with pytest.raises(ScanError) as caught:
        await scan_table(dag, base, name="the base", grype=grype, database=dag.host().file(str(old)))
    said = str(caught.value)
    assert said.startswith('scan: grype_db "vulnerability.db": expected a database younger than grype'), said
    assert "the vulnerability database was built 4 weeks ago (max allowed age is 5 days)" in said, said
    assert "pass a newer one" in said

    not_db = dag.directory().with_new_file("vulnerability.db", "not a database\n").file("vulnerability.db")
    with pytest.raises(ScanError) as caught:
        await scan_table(dag, base, name="the base", grype=grype, database=not_db)
    said = str(caught.value)
    assert said.startswith('scan: grype_db "vulnerability.db": expected a grype vulnerability database'), said


def test_a_gate_that_is_not_a_severity_is_refused_naming_the_words() -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_severity("severe", name="fail_on")
    assert str(caught.value) == 'spec: fail_on "severe": expected one of critical, high, medium, low, negligible'
    assert parse_severity("HIGH", name="fail_on") is Severity.HIGH


@pytest.fixture(scope="module")
def grype_release(tools_cache: Path, grype_path: str) -> Iterator[tuple[FakeUpstream, str]]:
    """GitHub standing in: grype's release asset for amd64 (the grype built here, packed as goreleaser packs it)
    under its download path, and its digest in the releases API, as GitHub publishes them; and that digest."""
    with FakeUpstream() as github:
        yield github, serve_tool_release(github, tools_cache, "grype", GRYPE.version, Path(grype_path))


async def test_dagger_call_scan_fails_on_a_fixable_vulnerability_and_shows_the_table(
    mirror: ReleaseMirror, base_image: str, database: Path, grype_release: tuple[FakeUpstream, str], tmp_path: Path
) -> None:
    """The front door, as the README gives it: no tool or database passed. grype comes from its release asset,
    the database from its listing (local hosts standing in for GitHub and grype's); exit 1, the refusal and the
    table. The asset is checked against --grype-checksum: the grype built here is not the release's build."""
    github, checksum = grype_release
    settings = [*local_settings(mirror, base_image), "--github-api-url", github.api]
    grype = ["--grype-base-url", f"{github.url}/anchore/grype/releases/download", "--grype-checksum", checksum]
    with FileServer(vulnerability_db.listing(tmp_path / "databases", database)) as host:
        done = await dagger_cli("call", *settings, "scan", *grype, "--grype-db-url", host.url, "--fail-on", "high")
    assert done.returncode == 1, done
    assert f"fail_on high: 1 vulnerability at or above it has a fix ({FIXED.cve})" in done.stderr, done.stderr
    assert f"| {FIXED.cve} | High | {FIXED.fixed_in} | {Where.ADDED.value} |" in done.stderr
    assert "Traceback" not in done.stderr


async def test_client_mode_scans_an_image_by_reference_and_the_gate_lets_an_unfixable_one_pass(
    base_image: str, grype_path: str, database: Path
) -> None:
    """The other front door: `python -m pipelines scan --image REF`, the base image from the local registry."""
    gate = ["--fail-on", "critical"]  # its only finding is Critical with no fix: it passes
    done = await client_mode("scan", "--image", base_image, "--grype", grype_path, "--grype-db", str(database), *gate)
    out = done.stdout.decode()
    assert done.returncode == 0, done
    assert out.startswith(f"scan {base_image} (linux/amd64) (vulnerability database built 20"), out
    assert "1 known vulnerability, 0 with a fix" in out
    assert "\n| tar | " in out, out
    assert f"| {UNFIXED.cve} | Critical | {NO_FIX} | {Where.SYSTEM.value} |" in out, out


async def test_the_listings_archive_is_verified_and_an_archive_as_grype_db_is_read(
    dag: dagger.Client, base_image: str, grype_path: str, database: Path, tmp_path: Path
) -> None:
    """An archive whose bytes are not the listing's checksum is refused before grype sees it; the archive itself,
    passed as --grype-db, scans as the vulnerability.db does."""
    wrong = "sha256:" + "0" * 64
    root = vulnerability_db.listing(tmp_path / "bad", database, checksum=wrong)
    with FileServer(root) as host, pytest.raises(ScanError) as caught:
        await latest_database(dag, host.url)
    said = str(caught.value)
    assert said.startswith(f"scan: {host.url}/v6/vulnerability-db_v6.1.10_test.tar.gz: expected SHA-256 {'0' * 64}")
    assert f"(the checksum {host.url}/v6/latest.json gives)" in said, said

    base = base_container(dag, base_image, "linux/amd64")
    packed = dag.host().file(str(vulnerability_db.archive(database)))
    table = await scan_table(dag, base, name="the base", grype=dag.host().file(grype_path), database=packed)
    assert "1 known vulnerability, 0 with a fix" in table, table


async def test_a_tools_asset_is_checked_against_the_sum_given_else_pinned_else_published(
    dag: dagger.Client, base_image: str, grype_release: tuple[FakeUpstream, str]
) -> None:
    """The SHA-256 a release asset must have: --grype-checksum's, else pins.toml's for the engine's platform,
    else the digest GitHub's API publishes. Each is used (the asset it matches runs) and refused (other bytes,
    before anything runs), and each refusal says where the sum came from."""
    github, served = grype_release
    asset, other = GRYPE.asset("amd64"), "0" * 64
    unpinned = dataclasses.replace(GRYPE, sha256=MappingProxyType({}))
    pinned = dataclasses.replace(GRYPE, sha256=MappingProxyType({"amd64": served}))
    wrong_pin = dataclasses.replace(GRYPE, sha256=MappingProxyType({"amd64": other}))
    base_url = f"{github.url}/anchore/grype/releases/download"

    async def grype(tool: Tool, given: str | None = None, url: str = base_url) -> dagger.File:
        return await official_tool(
            dag, tool, base_image=base_image, base_url=url, api_url=github.api, sha256=given, error=ScanError
        )

    for tool, given in ((unpinned, None), (pinned, None), (wrong_pin, served)):  # published, pinned, given
        ran = dag.container().from_(base_image).with_file("/grype", await grype(tool, given))
        said = await ran.with_exec(["/grype", "version"]).stdout()
        assert re.search(r"^Application:\s+grype$", said, re.MULTILINE), said

    refusals = (
        (wrong_pin, None, "(pipelines/pins.toml's [tools] grype_sha256_amd64)"),
        (pinned, other, "(the --grype-checksum given)"),
    )
    for tool, given, source in refusals:
        with pytest.raises(ScanError) as caught:
            await grype(tool, given)
        said = str(caught.value)
        assert said.startswith(f"scan: {base_url}/v{GRYPE.version}/{asset}: expected SHA-256 {other} {source}"), said

    with FakeUpstream() as mirror:  # a mirror serving other bytes than the ones GitHub publishes
        mirror.put(f"/v{GRYPE.version}/{asset}", b"not grype\n")
        with pytest.raises(ScanError) as caught:
            await grype(unpinned, url=mirror.url)
    said = str(caught.value)
    assert said.startswith(f"scan: {mirror.url}/v{GRYPE.version}/{asset}: expected SHA-256 {served} "), said
    assert f"(what GitHub publishes for {asset}), found engine digest sha256:" in said
    assert "Nothing was run; check --grype-base-url" in said


def test_the_same_advisories_make_the_same_database_bytes(tools_cache: Path, tmp_path: Path) -> None:
    """So the engine keeps grype's runs against it from one run of the suite to the next (vulnerability_db.py)."""
    made = [vulnerability_db.database(tools_cache, tmp_path / str(n), [FIXED, UNFIXED, BUNDLED]) for n in range(3)]
    assert len({db.read_bytes() for db in made}) == 1
    assert len({vulnerability_db.archive(db).read_bytes() for db in made}) == 1
    other = vulnerability_db.database(tools_cache, tmp_path / "other", [FIXED])
    assert other.read_bytes() != made[0].read_bytes()
