"""The fixtures' tools cache: where it is, and filling it before the tests need it.

It holds what the real-engine fixtures make once and keep between runs:
buildx for each arch (a Go build of minutes each), grype's database builder
(tests/engine/vulnerability_db.py, another Go build), Debian's docker client, the
signed apt repositories made of them, and Node.js's packages. `.ci/run` runs
`python3 -m tests.engine.fixture_tools buildx` and `... grype-db` (Go only) in
the background while the test environment comes up, grype-db right after its
grype build, whose compiled packages it shares; then `python3 -m
tests.engine.fixture_tools` (the rest: apt, gpg and dpkg-deb, which the
environment's packages bring) after it, so no test's set-up waits for those
builds. Filling takes a lock, so a test worker that gets there first, or a
second filler, makes each thing once.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.engine import apt_repo, fixtures, vulnerability_db


def cache_path() -> Path:
    """$RIE_TOOLS_CACHE, else runner-image-tools in the user's cache folder; made if missing."""
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = Path(os.environ.get("RIE_TOOLS_CACHE") or cache_home / "runner-image-tools")
    path.mkdir(parents=True, exist_ok=True)
    return path


def fill_buildx(cache: Path) -> None:
    """buildx for each arch, where missing (needs Go only)."""
    with fixtures.filling(cache):
        for arch in apt_repo.ARCHES:
            apt_repo.build_buildx(cache, arch)


def fill_grype_db(cache: Path) -> None:
    """grype's database builder, where missing (needs Go only; takes a lock of its own)."""
    vulnerability_db.builder(cache)


def fill(cache: Path) -> None:
    """Everything the fixtures keep in cache, made where missing."""
    apt_repo.cached_apt_repos(cache)
    for runner_arch in fixtures.NODE_PACKAGE:
        fixtures.runner_node(cache, runner_arch)


if __name__ == "__main__":
    started, cache = time.monotonic(), cache_path()
    fillers = {"buildx": fill_buildx, "grype-db": fill_grype_db, "all": fill}
    what = sys.argv[1:] or ["all"]
    if len(what) != 1 or what[0] not in fillers:
        sys.exit(f"usage: python3 -m tests.engine.fixture_tools [{'|'.join(fillers)}], not {' '.join(what)}")
    fillers[what[0]](cache)
    print(f"fixture tools ({what[0]}): {cache} filled in {time.monotonic() - started:.0f}s", file=sys.stderr)
