"""findings: grype's JSON report as rows, where each package sits, the gate on the fixable ones, the table."""

from __future__ import annotations

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
