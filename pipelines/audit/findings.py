"""What a scanner's report says of an image: its known vulnerabilities as rows, the gate, the table.

Pure logic on grype's JSON report (`grype -o json`); scan.py runs grype. A
row says where the package sits, so a reader knows who can fix it: the base
image's Debian packages (a new base), the packages this pipeline added (a new
build), or the runner's own bundled files (a new runner release).

The gate (`--fail-on`) counts only vulnerabilities that have a fix: one that
nobody can fix yet must not block a release.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pipelines.shared.errors import InvalidSpecError, refused

NO_FIX = "no fix yet"


# grype's own words, in its order (`--fail-on critical`).
class Severity(enum.Enum):
    """How bad a known vulnerability is, as the scanner's database rates it."""

    NEGLIGIBLE = "negligible"
    """Debian's 'unimportant': no security impact in practice."""

    LOW = "low"
    """Low."""

    MEDIUM = "medium"
    """Medium."""

    HIGH = "high"
    """High."""

    CRITICAL = "critical"
    """Critical."""


RANKS = {severity.value: rank for rank, severity in enumerate(Severity, start=1)}  # unknown ranks 0
SEVERITY_WORDS = ", ".join(reversed(RANKS))  # as the help and the errors list them, worst first


def parse_severity(value: Severity | str | None, *, name: str) -> Severity | None:
    """--fail-on's value as a Severity (any case); None stays None (no gate); anything else is refused."""
    if value is None or isinstance(value, Severity):
        return value
    word = value.strip().lower()
    if word not in RANKS:
        raise InvalidSpecError(refused(name, value, f"one of {SEVERITY_WORDS}"))
    return Severity(word)


class Where(enum.Enum):
    """Where a vulnerable package sits in the image, and so who ships its fix."""

    BASE = "base packages"
    ADDED = "packages we added"
    SYSTEM = "system packages"  # an image whose base is not known: not told apart
    RUNNER = "the runner's files"
    OTHER = "elsewhere in the image"


@dataclass(frozen=True)
class Finding:
    """One known vulnerability of one package in the image."""

    package: str
    installed: str
    vulnerability: str
    severity: str  # the scanner's word: Critical, High, Medium, Low, Negligible, Unknown
    fixed_in: str  # the version that fixes it, or NO_FIX
    where: Where

    @property
    def fixable(self) -> bool:
        return self.fixed_in != NO_FIX

    @property
    def rank(self) -> int:
        return rank(self.severity)


@dataclass(frozen=True)
class Layout:
    """What tells the rows apart: the base image's Debian package names (None: not known), the runner's folders."""

    base_packages: frozenset[str] | None
    runner_roots: tuple[str, ...]


def rank(severity: str) -> int:
    """grype's severity word as a number: Critical 5 … Negligible 1, Unknown (or anything else) 0."""
    return RANKS.get(severity.strip().lower(), 0)


def where(artifact: dict[str, Any], layout: Layout) -> Where:
    paths = [str(loc.get("path", "")) for loc in artifact.get("locations") or []]
    roots = tuple(root.rstrip("/") + "/" for root in layout.runner_roots)
    if any(path.startswith(roots) for path in paths):
        return Where.RUNNER
    if artifact.get("type") == "deb":
        if layout.base_packages is None:
            return Where.SYSTEM
        return Where.BASE if artifact.get("name") in layout.base_packages else Where.ADDED
    return Where.OTHER


def fixed_in(vulnerability: dict[str, Any]) -> str:
    fix = vulnerability.get("fix") or {}
    versions = [v for v in fix.get("versions") or [] if v]
    if fix.get("state") == "fixed" and versions:
        return ", ".join(versions)
    return NO_FIX


def findings(report: dict[str, Any], layout: Layout) -> list[Finding]:
    """Every match of grype's report as a Finding, worst first, duplicates (same id, package, version) once."""
    seen: dict[tuple[str, str, str], Finding] = {}
    for match in report.get("matches") or []:
        vulnerability, artifact = match.get("vulnerability") or {}, match.get("artifact") or {}
        severity = str(vulnerability.get("severity") or "Unknown")
        finding = Finding(
            vulnerability=str(vulnerability.get("id", "")),
            package=str(artifact.get("name", "")),
            installed=str(artifact.get("version", "")),
            severity=severity,
            fixed_in=fixed_in(vulnerability),
            where=where(artifact, layout),
        )
        seen.setdefault((finding.vulnerability, finding.package, finding.installed), finding)
    return sorted(seen.values(), key=lambda f: (-f.rank, f.where.value, f.package, f.vulnerability))


def blocking(found: Iterable[Finding], fail_on: Severity | None) -> list[Finding]:
    """The findings --fail-on refuses: at or above its severity, and with a fix."""
    if fail_on is None:
        return []
    floor = RANKS[fail_on.value]
    return [f for f in found if f.fixable and f.rank >= floor]


def database_built(report: dict[str, Any]) -> str:
    """The scanner's database build time, as its report gives it ('unknown' when it does not)."""
    db = (report.get("descriptor") or {}).get("db") or {}
    status = db.get("status", db) if isinstance(db, dict) else {}
    return str(status.get("built") or "unknown")


def render(image: str, built: str, found: list[Finding]) -> str:
    """A title line (image, the database's build time, the counts) and a Markdown table, one finding a row."""
    lines = [f"scan {image} (vulnerability database built {built}): {summary(found)}"]
    if found:
        lines += [
            "",
            "| package | installed | vulnerability | severity | fixed in | where |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {f.package} | {f.installed} | {f.vulnerability} | {f.severity} | {f.fixed_in} | {f.where.value} |"
            for f in found
        ]
    return "\n".join(lines) + "\n"


def summary(found: list[Finding]) -> str:
    """'3 known vulnerabilities, 2 with a fix' (or 'no known vulnerabilities')."""
    if not found:
        return "no known vulnerabilities"
    fixable = sum(f.fixable for f in found)
    noun = "vulnerability" if len(found) == 1 else "vulnerabilities"
    return f"{len(found)} known {noun}, {fixable} with a fix"
