"""The fault matrix: every function against every outside thing it reads or writes, that thing unreachable.

The table is data, read by the real-engine test that runs each cell through
`dagger call` (tests/engine/test_fault_matrix.py) and by the unit test that
holds docs/faults.md's matrix to it. After an edit of the table, write the page
again with `python3 -m tests.engine.fault_matrix`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

# Unreachable: port 9 (discard) on the loopback has no listener, so the connection is refused at once.
NOWHERE = "127.0.0.1:9"
UNREACHABLE = {
    "base": f"{NOWHERE}/runner-image-test/nowhere:1",
    "registry": f"{NOWHERE}/runner-image-test/fault-matrix:1",
    "api": f"http://{NOWHERE}",
    "downloads": f"http://{NOWHERE}/releases",
    "apt": f"http://{NOWHERE}/docker",
    "vulndb": f"http://{NOWHERE}/databases",
    "tools": f"http://{NOWHERE}/anchore",
}
THINGS = {
    "base": "the base image's registry",
    "registry": "the image registry (publish's and merge's target, merge's, check's and scan's source)",
    "api": "the GitHub API",
    "downloads": "the download host",
    "apt": "Docker's apt repository",
    "vulndb": "grype's database host",
    "tools": "grype's and syft's release downloads",
}
FUNCTIONS = ("build", "smoke-test", "ci", "publish", "merge", "sbom", "scan", "check", "updates", "bump", "base-fixes")

# What the error says to do, by thing (any one of them).
BASE_TODO = ("Check --base-image, and that the engine reaches its registry", "check that address and that the engine")
TODO = {
    "base": BASE_TODO,
    "registry": ("and that the engine can reach its registry",),
    "api": ("--runner-checksum ARCH=<SHA-256>", "check that address and that the engine", "--github-api-url"),
    "downloads": ("base-url, and that the engine can reach it",),  # --runner-base-url or --hooks-base-url
    "apt": ("--docker-apt-url", "check that address and that the engine", "--docker-apt-repo"),
    "vulndb": ("Check --grype-db-url, and that the engine can reach it",),
    "tools": ("Check --grype-base-url, and that the engine can reach it", "Check --syft-base-url, and that"),
}


@dataclasses.dataclass(frozen=True)
class Cell:
    """One function with one outside thing unreachable: the stage its error names, and what it says to do."""

    function: str
    thing: str
    stages: tuple[str, ...]  # the error names one of these stages first (the step that met the fault)

    @property
    def id(self) -> str:
        return f"{self.function}-{self.thing}"

    @property
    def todo(self) -> tuple[str, ...]:
        return TODO[self.thing]


BUILDS = ("build", "smoke-test", "ci", "publish", "sbom", "scan")  # each builds an image from the settings
BASE_STAGES = ("base image:", "engine:")
CELLS = (
    *(Cell(f, "base", BASE_STAGES) for f in BUILDS),
    *(Cell(f, "api", ("checksum:",)) for f in BUILDS),
    *(Cell(f, "downloads", ("download:",)) for f in BUILDS),
    *(Cell(f, "apt", ("download:",)) for f in BUILDS),  # Docker's apt key is read first
    Cell("publish", "registry", ("publish:",)),
    Cell("merge", "registry", ("merge:",)),
    Cell("check", "registry", ("check:",)),
    Cell("scan", "registry", ("scan:",)),  # --image
    Cell("scan", "vulndb", ("scan:",)),
    Cell("scan", "tools", ("scan:",)),
    Cell("sbom", "tools", ("sbom:",)),
    *(Cell(f, "base", BASE_STAGES) for f in ("updates", "bump")),
    *(Cell(f, "api", ("upstream:",)) for f in ("updates", "bump")),
    *(Cell(f, "apt", ("upstream:",)) for f in ("updates", "bump")),
    Cell("base-fixes", "base", ("engine:",)),  # its tag, resolved to the digest it names now
    Cell("base-fixes", "vulndb", ("scan:",)),
    Cell("base-fixes", "tools", ("scan:",)),
)

# The cells no call can reach, and why.
CANNOT = {
    **{(f, "registry"): "pushes nothing, pulls only the base" for f in ("build", "smoke-test", "ci", "sbom")},
    **{(f, thing): "reads only the registry its images are in" for f in ("merge", "check") for thing in THINGS},
    **{(f, "downloads"): "downloads no release asset" for f in ("updates", "bump")},
    **{(f, "registry"): "publishes nothing" for f in ("updates", "bump")},
    **{(f, "vulndb"): "reads no vulnerability database" for f in FUNCTIONS if f not in ("scan", "base-fixes")},
    **{(f, "tools"): "runs neither grype nor syft" for f in FUNCTIONS if f not in ("scan", "sbom", "base-fixes")},
    ("base-fixes", "registry"): "pushes nothing, pulls only the base",
    ("base-fixes", "downloads"): "downloads no runner or hooks",
    ("base-fixes", "apt"): "installs nothing",
    # It reads the API for grype's SHA-256 only while pins.toml pins none, so no cell can hold for every pin;
    # that read and its error are scan's, whose cells test them.
    ("base-fixes", "api"): "builds nothing; reads it only for grype's SHA-256 while none is pinned, as scan does",
}
CANNOT = {key: why for key, why in CANNOT.items() if key not in {(c.function, c.thing) for c in CELLS}}

PAGE = Path(__file__).resolve().parents[2] / "docs" / "faults.md"
BEGIN = "<!-- fault matrix: written by `python3 -m tests.engine.fault_matrix` from tests/engine/fault_matrix.py -->"
END = "<!-- end of the fault matrix -->"


def matrix_markdown() -> str:
    """The table of docs/faults.md: a row per function, a column per outside thing."""
    cells = {(c.function, c.thing): c for c in CELLS}
    lines = [
        "| function | " + " | ".join(THINGS.values()) + " |",
        "|---|" + "---|" * len(THINGS),
    ]
    for function in FUNCTIONS:
        row = []
        for thing in THINGS:
            cell = cells.get((function, thing))
            if cell is not None:
                row.append("tested: " + " or ".join(f"`{stage}`" for stage in cell.stages))
            else:
                row.append(f"cannot happen: {CANNOT[(function, thing)]}")
        lines.append(f"| `{function}` | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def page_with_matrix(page: str) -> str:
    """docs/faults.md's text with the matrix between its markers written from the table."""
    pattern = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.DOTALL)
    if not pattern.search(page):
        msg = f"{PAGE}: expected the markers {BEGIN!r} and {END!r}"
        raise ValueError(msg)
    return pattern.sub(lambda _: f"{BEGIN}\n{matrix_markdown()}{END}", page)


if __name__ == "__main__":
    text = PAGE.read_text(encoding="utf-8")
    PAGE.write_text(page_with_matrix(text), encoding="utf-8")
    print(f"wrote the fault matrix into {PAGE}", file=sys.stderr)
