"""The fixtures' tools cache: where it is, and filling it before the tests need it.

It holds what the real-engine fixtures make once and keep between runs:
buildx for each arch (a Go build of minutes each), grype's database builder
(tests/engine/vulnerability_db.py, another Go build), Debian's docker client, the
signed apt repositories made of them, and Node.js's packages. `.ci/run` runs
`python3 -m tests.engine.fixture_tools buildx` (Go only) in the background
while the test environment comes up, and `python3 -m tests.engine.fixture_tools`
(the rest: apt, gpg and dpkg-deb, which the environment's packages bring)
after it, so no test's set-up waits for those builds. Filling takes the cache's
lock, so a test worker that gets there first, or a second filler, makes each
thing once.
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
    """The Go builds, where missing: buildx for each arch, grype's database builder (needs Go only)."""
    with fixtures.filling(cache):
        for arch in apt_repo.ARCHES:
            apt_repo.build_buildx(cache, arch)
    vulnerability_db.builder(cache)  # takes the lock itself


def fill(cache: Path) -> None:
    """Everything the fixtures keep in cache, made where missing."""
    apt_repo.cached_apt_repos(cache)
    for runner_arch in fixtures.NODE_PACKAGE:
        fixtures.runner_node(cache, runner_arch)


if __name__ == "__main__":
    started, cache = time.monotonic(), cache_path()
    what = sys.argv[1:] or ["all"]
    if what not in (["buildx"], ["all"]):
        sys.exit(f"usage: python3 -m tests.engine.fixture_tools [buildx|all], not {' '.join(what)}")
    (fill_buildx if what == ["buildx"] else fill)(cache)
    print(f"fixture tools ({what[0]}): {cache} filled in {time.monotonic() - started:.0f}s", file=sys.stderr)
