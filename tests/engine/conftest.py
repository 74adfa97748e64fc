"""The real-engine tier: the pipeline against a real Dagger engine, on local inputs.

`tests/env/testenv.sh up` starts the engine, a registry on 127.0.0.1 and the base
images; `eval "$(tests/env/testenv.sh env)"` points the SDK at them. These fixtures
add the runner and hooks archives (built here) on a server on 127.0.0.1.

Without an engine the tier skips, loudly; under CI=true a missing engine is a
usage error that fails the run, so CI can never pass on skipped engine tests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import dagger
import pytest

from tests.engine import apt_repo, fixture_tools, fixtures

HERE = Path(__file__).parent
RUNNER_VERSION = "2.399.1"  # a version no real release has, so a real download can never pass
# Two hooks releases, as upstream's image has (one in k8s/, a later one in k8s-novolume/);
# neither is a real one either.
HOOKS_VERSION = "0.7.9"
HOOKS_NOVOLUME_VERSION = "0.9.2"


def _missing_engine() -> str | None:
    """Why the engine tier cannot run here, or None when it can."""
    if not (os.environ.get("_EXPERIMENTAL_DAGGER_RUNNER_HOST") or os.environ.get("DAGGER_SESSION_PORT")):
        return (
            "no Dagger engine configured (_EXPERIMENTAL_DAGGER_RUNNER_HOST unset): "
            'run `sudo bash tests/env/testenv.sh up && eval "$(bash tests/env/testenv.sh env)"` first, '
            "or `bash .ci/run`"
        )
    for var in ("RIE_REGISTRY", "RIE_BASE_IMAGE", "RIE_AUTH_REGISTRY", "RIE_AUTH_USER", "RIE_AUTH_PASSWORD_FILE"):
        if not os.environ.get(var):
            return f"{var} unset: the local registry and base images come from `tests/env/testenv.sh env`"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    engine_items = [item for item in items if HERE in Path(str(item.path)).parents]
    for item in engine_items:
        item.add_marker(pytest.mark.engine)
    reason = _missing_engine()
    if reason is None or not engine_items:
        return
    if os.environ.get("CI", "").lower() == "true":
        msg = f"CI=true and the real-engine tier cannot run: {reason}"
        raise pytest.UsageError(msg)
    banner = f"SKIPPING {len(engine_items)} REAL-ENGINE TESTS: {reason}"
    print(f"\n{'!' * 20}\n{banner}\n{'!' * 20}", file=sys.stderr)
    for item in engine_items:
        item.add_marker(pytest.mark.skip(reason=banner))


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def dagger_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the engine's progress goes; the path is printed when a test fails."""
    path = Path(os.environ.get("RIE_DAGGER_LOG", tmp_path_factory.mktemp("dagger") / "dagger.log"))
    print(f"\nDagger progress log: {path}", file=sys.stderr)
    return path


@pytest.fixture(scope="session")
async def dag(dagger_log: Path) -> AsyncIterator[dagger.Client]:
    """One engine session for the whole tier, so stages built once are cached for all tests."""
    with dagger_log.open("a", buffering=1) as log:  # line-buffered: tests read it while it grows
        async with dagger.connection(dagger.Config(log_output=log, retry=None, timeout=None)):
            yield dagger.dag


@pytest.fixture(scope="session")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fixtures.ReleaseMirror]:
    """GitHub-release-like downloads of the fixture archives, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("releases")
    sums = fixtures.write_release_mirror(
        root,
        runner_version=RUNNER_VERSION,
        hooks_version=HOOKS_VERSION,
        hooks_novolume_version=HOOKS_NOVOLUME_VERSION,
    )
    with fixtures.FileServer(root) as server:
        yield fixtures.ReleaseMirror(
            root=root,
            base_url=server.url,
            runner_version=RUNNER_VERSION,
            hooks_version=HOOKS_VERSION,
            hooks_novolume_version=HOOKS_NOVOLUME_VERSION,
            sums=sums,
        )


@pytest.fixture(scope="session")
def registry() -> str:
    return os.environ["RIE_REGISTRY"]


@pytest.fixture(scope="session")
def base_image() -> str:
    return os.environ["RIE_BASE_IMAGE"]


@pytest.fixture(scope="session")
def auth_registry() -> tuple[str, str, str]:
    """(address, user, password) of the registry that wants a login."""
    password = Path(os.environ["RIE_AUTH_PASSWORD_FILE"]).read_text().strip()
    return os.environ["RIE_AUTH_REGISTRY"], os.environ["RIE_AUTH_USER"], password


@pytest.fixture(scope="session")
def tools_cache() -> Path:
    """Where tools built for fixtures (buildx) are kept between runs (fixture_tools.py)."""
    return fixture_tools.cache_path()


@pytest.fixture(scope="session")
def apt_repos(tools_cache: Path) -> apt_repo.AptRepos:
    """Docker-like signed apt repositories (good, bad-signature, wrong-key, bad-sum), as local folders.

    The pipeline takes them as --docker-apt-repo (a Directory apt reads through
    a file: source), so no server is needed: apt in a build container could
    reach one only at a private address of the engine's bridge. Made once in
    the tools cache, so every worker and run gives the engine the same bytes.
    """
    return apt_repo.cached_apt_repos(tools_cache)
