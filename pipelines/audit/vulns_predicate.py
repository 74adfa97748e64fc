"""A scan as in-toto's vulnerability predicate (https://in-toto.io/attestation/vulns/v0.1), for actions/attest.

The release workflow attests it beside the image's provenance and SBOM, so a
user can read what was known to be vulnerable in an image when it was
released (`gh attestation verify … --predicate-type` with PREDICATE_TYPE).
Pure: made from grype's JSON report and the scan's times.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from pipelines.audit.findings import fixed_in

PREDICATE_TYPE = "https://in-toto.io/attestation/vulns/v0.1"
GRYPE_URI = "pkg:github/anchore/grype"
_VERSION = re.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+")


def timestamp(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def vulns_predicate(
    report: dict[str, Any], *, database: str, started: datetime.datetime, finished: datetime.datetime
) -> dict[str, Any]:
    """The predicate of grype's report: the scanner, the database it read (database: where it came from), one
    result per vulnerability with its severity by grype's source for it and the packages it was found in."""
    descriptor = report.get("descriptor") or {}
    version = str(descriptor.get("version") or "")
    db = descriptor.get("db") or {}
    status = db.get("status", db) if isinstance(db, dict) else {}
    results: dict[str, dict[str, Any]] = {}
    for match in report.get("matches") or []:
        vulnerability, artifact = match.get("vulnerability") or {}, match.get("artifact") or {}
        entry = results.setdefault(
            str(vulnerability.get("id", "")),
            {
                "id": str(vulnerability.get("id", "")),
                "severity": [
                    {"method": str(vulnerability.get("namespace") or "grype"), "score": vulnerability.get("severity")}
                ],
                "annotations": [],
            },
        )
        entry["annotations"].append(
            {"package": artifact.get("name"), "installed": artifact.get("version"), "fixedIn": fixed_in(vulnerability)}
        )
    return {
        "scanner": {
            # The version as the binary reports it: a release's, or "[not provided]" for one built by hand.
            "uri": f"{GRYPE_URI}@v{version.removeprefix('v')}" if _VERSION.fullmatch(version) else GRYPE_URI,
            "version": version or "unknown",
            "db": {
                "uri": database,
                "version": str(status.get("schemaVersion") or "unknown"),
                "lastUpdate": str(status.get("built") or "unknown"),
            },
            "result": list(results.values()),
        },
        "metadata": {"scanStartedOn": timestamp(started), "scanFinishedOn": timestamp(finished)},
    }
