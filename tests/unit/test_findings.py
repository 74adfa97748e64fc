"""findings: grype's JSON report as rows, where each package sits, the gate on the fixable ones, the table."""

from __future__ import annotations

import datetime

import pytest

from pipelines.audit.findings import (
    NO_FIX,
    Finding,
    Layout,
    Severity,
    Where,
    blocking,
    database_built,
    findings,
    rank,
    render,
)
from pipelines.audit.vulns_predicate import vulns_predicate

LAYOUT = Layout(base_packages=frozenset({"libc6", "openssl"}), runner_roots=("/home/runner", "/actions-runner"))


def match(name: str, version: str, vuln: str, severity: str, *, fix: list[str] | None = None, **artifact) -> dict:
    """One entry of grype's `matches`, in the shape `grype -o json` writes it."""
    state = "fixed" if fix else "not-fixed"
    return {
        "vulnerability": {"id": vuln, "severity": severity, "fix": {"versions": fix or [], "state": state}},
        "artifact": {"name": name, "version": version, "type": "deb", "locations": [{"path": "/var/lib/dpkg/status"}]}
        | artifact,
    }


def test_each_match_is_a_row_worst_first_saying_where_it_sits():
    report = {
        "matches": [
            match("libc6", "2.36-9", "CVE-2025-1", "Low", fix=["2.36-9+deb12u9"]),
            match("sudo", "1.9.13p3-1", "CVE-2025-2", "Critical"),
            match(
                "tar",
                "6.1.0",
                "GHSA-xxxx",
                "High",
                fix=["6.2.1"],
                type="npm",
                locations=[
                    {"path": "/home/runner/externals/node20/lib/node_modules/npm/node_modules/tar/package.json"}
                ],
            ),
            match("zlib", "1.2", "CVE-2025-3", "Medium", type="binary", locations=[{"path": "/usr/local/bin/x"}]),
        ]
    }
    rows = findings(report, LAYOUT)
    assert [(f.package, f.severity, f.fixed_in, f.where) for f in rows] == [
        ("sudo", "Critical", NO_FIX, Where.ADDED),
        ("tar", "High", "6.2.1", Where.RUNNER),
        ("zlib", "Medium", NO_FIX, Where.OTHER),
        ("libc6", "Low", "2.36-9+deb12u9", Where.BASE),
    ]


def test_an_image_whose_base_is_not_known_says_system_packages():
    rows = findings({"matches": [match("libc6", "2.36-9", "CVE-2025-1", "Low")]}, Layout(None, ("/home/runner",)))
    assert rows[0].where is Where.SYSTEM


def test_the_same_vulnerability_of_the_same_package_found_twice_is_one_row():
    twice = [match("openssl", "3.0.15-1", "CVE-2025-9", "High", fix=["3.0.16-1"])] * 2
    assert len(findings({"matches": twice}, LAYOUT)) == 1


def test_no_matches_is_no_rows_and_the_table_says_so():
    assert findings({"matches": []}, LAYOUT) == []
    text = render("img", "2026-12-01T00:00:00Z", [])
    assert text == "scan img (vulnerability database built 2026-12-01T00:00:00Z): no known vulnerabilities\n"


def fnd(severity: str, fixed_in: str = NO_FIX) -> Finding:
    return Finding("p", "1", f"CVE-{severity}", severity, fixed_in, Where.BASE)


@pytest.mark.parametrize(
    ("fail_on", "found", "refused"),
    [
        (Severity.CRITICAL, [fnd("Critical")], []),  # no fix yet: never blocks
        (Severity.CRITICAL, [fnd("Critical", "2")], ["CVE-Critical"]),
        (Severity.CRITICAL, [fnd("High", "2")], []),  # below the floor
        (Severity.HIGH, [fnd("High", "2"), fnd("Critical", "2"), fnd("Medium", "2")], ["CVE-High", "CVE-Critical"]),
        (Severity.NEGLIGIBLE, [fnd("Unknown", "2"), fnd("Negligible", "2")], ["CVE-Negligible"]),
        (None, [fnd("Critical", "2")], []),  # no gate asked
    ],
)
def test_the_gate_refuses_only_fixable_findings_at_or_above_it(fail_on, found, refused):
    assert [f.vulnerability for f in blocking(found, fail_on)] == refused


def test_severity_words_rank_in_grypes_order_unknown_lowest():
    words = ["Unknown", "Negligible", "Low", "Medium", "High", "Critical"]
    assert [rank(w) for w in words] == sorted(rank(w) for w in words)
    assert len({rank(w) for w in words}) == len(words)
    assert rank("whatever") == rank("Unknown") == 0


def test_the_table_has_a_row_per_finding_and_the_counts_in_its_title():
    found = [fnd("Critical", "2"), fnd("Low")]
    lines = render("ghcr.io/o/r:1 (linux/amd64)", "2026-12-01T00:00:00Z", found).splitlines()
    assert lines[0] == (
        "scan ghcr.io/o/r:1 (linux/amd64) (vulnerability database built 2026-12-01T00:00:00Z): "
        "2 known vulnerabilities, 1 with a fix"
    )
    assert lines[2] == "| package | installed | vulnerability | severity | fixed in | where |"
    assert lines[4] == "| p | 1 | CVE-Critical | Critical | 2 | base packages |"
    assert lines[5] == f"| p | 1 | CVE-Low | Low | {NO_FIX} | base packages |"


def test_the_database_time_is_read_from_the_descriptor_or_said_unknown():
    assert database_built({"descriptor": {"db": {"status": {"built": "2026-12-01T00:00:00Z"}}}}) == (
        "2026-12-01T00:00:00Z"
    )
    assert database_built({"descriptor": {"db": {"built": "2026-11-30T00:00:00Z"}}}) == "2026-11-30T00:00:00Z"
    assert database_built({}) == "unknown"


def test_cli_names_of_the_gate_are_grypes_words():
    assert [s.value for s in Severity] == ["negligible", "low", "medium", "high", "critical"]


def test_the_vulns_predicate_has_each_vulnerability_once_with_its_packages_and_the_scans_times():
    report = {
        "descriptor": {
            "name": "grype",
            "version": "9.9.9",  # a version no pin holds
            "db": {"status": {"schemaVersion": "v6.1.10", "built": "2026-12-06T04:00:00Z"}},
        },
        "matches": [
            match("libc6", "2.36-9", "CVE-2025-1", "Low", fix=["2.36-9+deb12u9"]),
            match("libc-bin", "2.36-9", "CVE-2025-1", "Low", fix=["2.36-9+deb12u9"]),
            match("tar", "1.34", "CVE-2025-2", "Critical"),
        ],
    }
    started = datetime.datetime(2026, 12, 7, 12, 0, 0, tzinfo=datetime.UTC)
    done = vulns_predicate(report, database="https://db.example/v6/latest.json", started=started,
                           finished=started + datetime.timedelta(seconds=42))  # fmt: skip
    scanner = done["scanner"]
    assert (scanner["uri"], scanner["version"]) == ("pkg:github/anchore/grype@v9.9.9", "9.9.9")
    assert scanner["db"] == {
        "uri": "https://db.example/v6/latest.json",
        "version": "v6.1.10",
        "lastUpdate": "2026-12-06T04:00:00Z",
    }
    assert [r["id"] for r in scanner["result"]] == ["CVE-2025-1", "CVE-2025-2"]
    first = scanner["result"][0]
    assert first["severity"] == [{"method": "grype", "score": "Low"}]
    assert [a["package"] for a in first["annotations"]] == ["libc6", "libc-bin"]
    assert first["annotations"][0]["fixedIn"] == "2.36-9+deb12u9"
    assert scanner["result"][1]["annotations"][0]["fixedIn"] == NO_FIX
    assert done["metadata"] == {"scanStartedOn": "2026-12-07T12:00:00Z", "scanFinishedOn": "2026-12-07T12:00:42Z"}
    hand_built = vulns_predicate({"descriptor": {"version": "[not provided]"}}, database="x", started=started,
                                 finished=started)  # fmt: skip
    assert hand_built["scanner"]["uri"] == "pkg:github/anchore/grype"  # no version to name
    assert hand_built["scanner"]["result"] == []  # nothing found: an empty list, as the predicate says
