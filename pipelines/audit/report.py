"""check's result: one row per mode and check, the table, and the verdict."""

from __future__ import annotations

import dataclasses

from pipelines.audit.chart import (
    Mode,
)
from pipelines.shared.contract import Layout
from pipelines.shared.errors import CheckError

MAX_FOUND = 300  # characters of output quoted in a row


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Row:
    """One check of one mode."""

    mode: Mode
    check: str
    passed: bool | None
    """None: not run (the message says what it needs)."""
    found: str
    needs: str = ""
    """What the chart needs, shown when the check failed."""

    @property
    def result(self) -> str:
        return {True: "pass", False: "FAIL", None: "not run"}[self.passed]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    image: str
    layout: Layout
    rows: tuple[Row, ...]

    @property
    def failed(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.passed is False)

    def render(self) -> str:
        """A title line and a Markdown table: one row per mode and check."""
        modes = list(dict.fromkeys(row.mode.value for row in self.rows))
        verdict = f"{len(self.failed)} of {len(self.rows)} checks failed" if self.failed else "every check passed"
        lines = [
            f"check {self.image} ({self.layout.value} layout; modes {', '.join(modes)}): {verdict}",
            "",
            "| mode | check | result | found | the chart needs |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {row.mode.value} | {row.check} | {row.result} | {_cell(row.found)} | {_cell(row.needs)} |"
            for row in self.rows
        ]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    one_line = " ".join(text.split())
    if len(one_line) > MAX_FOUND:
        one_line = "…" + one_line[-MAX_FOUND:]
    return one_line.replace("|", "\\|") or "—"


def judged(mode: Mode, check: str, ok: bool, found: str, needs: str) -> Row:
    """A row that shows what the chart needs only when the check failed."""
    return Row(mode=mode, check=check, passed=ok, found=found, needs="" if ok else needs)


def verdict(report: Report) -> str:
    """The table when every asked mode passed; a CheckError holding it otherwise (the command exits non-zero)."""
    text = report.render()
    if report.failed:
        msg = f"{report.image}: {len(report.failed)} of {len(report.rows)} checks failed\n\n{text}"
        raise CheckError(msg)
    return text
