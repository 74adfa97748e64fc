"""Download faults against a real engine: what Dagger's http does alone, and what the pipeline adds.

A FaultServer (tests/engine/faults.py) on 127.0.0.1 serves the mirror's files
with scripted faults and counts requests, so each test can tell a retry (more
requests), a give-up (exactly `attempts` requests) and a refusal to retry
(one request). Each test gets its own server, hence its own URLs: the engine
caches a successful download per session and URL.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import dagger
import pytest

from pipelines.image.docker_repo import DockerRepo, download_key
from pipelines.image.fetch import fetch_asset
from pipelines.network.checksums import runner_download
from pipelines.network.download import DownloadPolicy, digest_matches, download_policy
from pipelines.network.published import fetch_release_digests
from pipelines.release.tested import release
from pipelines.shared.contract import Layout
from pipelines.shared.errors import ChecksumError, DownloadError
from pipelines.shared.spec import RunnerSpec
from tests.engine import faults
from tests.engine.faults import FaultServer
from tests.engine.fixtures import RELEASE_API_PATH, ReleaseMirror, client_mode_flags
from tests.engine.registry import Registry
from tests.engine.test_pipeline import make_spec, unique_address

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]

# Short pauses keep the tier quick; the limits are what is under test, not the defaults. The time
# limit only ends attempts of a busy engine here (these faults answer at once, they never stall):
# 20 s was once too short for a small file's third attempt while the three other workers ran.
QUICK = DownloadPolicy(attempts=3, timeout=60, backoff=0.2, max_backoff=1)
# Seconds: an attempt's time limit in the stall tests. Long enough for a healthy
# download on a machine busy with three other test workers (5 s was not: all three
# attempts of one ran out), far shorter than the stalls (60 s).
STALL_LIMIT = 20.0


@pytest.fixture
def faulty(mirror: ReleaseMirror) -> Iterator[FaultServer]:
    with FaultServer(mirror.root) as server:
        yield server


def spec_on(server: FaultServer, mirror: ReleaseMirror, base_image: str, **changes: object) -> RunnerSpec:
    spec = make_spec(mirror, base_image, "amd64", Layout.MINIMAL, **changes)
    return dataclasses.replace(spec, runner_base_url=f"{server.url}/runner", hooks_base_url=f"{server.url}/hooks")


def path_of(url: str) -> str:
    return urlsplit(url).path


# --- what Dagger 0.21.8's http does alone (core/http.go, HTTPState.Resolve) -------------
async def test_engine_http_tries_once_and_does_not_cache_the_failure(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    path = path_of(spec.runner_url)
    faulty.script(path, faults.fail(503))

    with pytest.raises(dagger.QueryError) as caught:
        await dag.http(spec.runner_url).digest(exclude_metadata=True)
    assert "invalid response status 503" in str(caught.value)
    assert faulty.hits(path) == 1  # no retry inside the engine

    found = await dag.http(spec.runner_url).digest(exclude_metadata=True)
    assert faulty.hits(path) == 2  # the failure was not cached: the same call asks again
    assert digest_matches(found, mirror.sha(spec.runner_asset))


async def test_engine_http_accepts_a_body_cut_short_without_a_length(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    """With no Content-Length, a closed connection looks like the end of the file: only a checksum can tell."""
    spec = spec_on(faulty, mirror, base_image)
    faulty.script(path_of(spec.runner_url), faults.short(100, sized=False))

    assert await dag.http(spec.runner_url).size() == 100


# --- what the pipeline adds: retried and succeeded ------------------------------------
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(faults.fail(503), id="503"),
        pytest.param(faults.fail(502), id="502"),
        pytest.param(faults.fail(429), id="429"),
        pytest.param(faults.reset_after(200), id="reset-after-200-bytes"),
        pytest.param(faults.short(200), id="shorter-than-content-length"),
    ],
)
async def test_transient_fault_twice_is_retried_and_the_download_succeeds(
    dag: dagger.Client,
    mirror: ReleaseMirror,
    base_image: str,
    faulty: FaultServer,
    fault: faults.Fault,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    path = path_of(spec.runner_url)
    faulty.script(path, fault, fault)

    with caplog.at_level(logging.WARNING, logger="pipelines.network.download"):
        file = await fetch_asset(dag, spec, runner_download(spec), policy=QUICK)

    assert faulty.hits(path) == 3
    assert digest_matches(await file.digest(exclude_metadata=True), mirror.sha(spec.runner_asset))
    assert "attempt 1 of 3 failed" in caplog.text
    assert "attempt 2 of 3 failed" in caplog.text
    assert spec.runner_url in caplog.text


# --- what the pipeline adds: a bounded give-up, with a clear error -------------------------
async def test_persistent_503_gives_up_after_the_attempts_naming_the_url(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    path = path_of(spec.runner_url)
    faulty.script(path, *[faults.fail(503)] * 10)

    with pytest.raises(DownloadError) as caught:
        await fetch_asset(dag, spec, runner_download(spec), policy=QUICK)

    message = str(caught.value)
    assert faulty.hits(path) == QUICK.attempts
    assert message.startswith(f"download: {spec.runner_asset}: could not read {spec.runner_url}: ")
    assert "503 Service Unavailable" in message
    assert f"gave up after {QUICK.attempts} attempt(s)" in message


async def test_a_stalled_transfer_times_out_naming_the_url_and_the_limit(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    path = path_of(spec.runner_url)
    faulty.script(path, faults.stall(60, after=100), faults.stall(60, after=100))
    policy = DownloadPolicy(attempts=2, timeout=STALL_LIMIT, backoff=0)

    with pytest.raises(DownloadError) as caught:
        await fetch_asset(dag, spec, runner_download(spec), policy=policy)

    message = str(caught.value)
    assert 1 <= faulty.hits(path) <= 2  # on a busy engine an attempt can time out before its request is out
    assert f"could not read {spec.runner_url}: no complete answer within the {STALL_LIMIT:g} s limit" in message
    assert "gave up after 2 attempt(s)" in message


async def test_a_stalled_attempt_is_abandoned_and_the_next_one_succeeds(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    """Cancelling our side ends the engine's request too: the retry is not stuck behind it."""
    spec = spec_on(faulty, mirror, base_image)
    path = path_of(spec.runner_url)
    faulty.script(path, faults.stall(60, after=100))
    policy = DownloadPolicy(attempts=3, timeout=STALL_LIMIT, backoff=0)  # one spare attempt for a busy engine

    file = await fetch_asset(dag, spec, runner_download(spec), policy=policy)

    assert 2 <= faulty.hits(path) <= 3
    assert digest_matches(await file.digest(exclude_metadata=True), mirror.sha(spec.runner_asset))


async def test_release_api_answer_is_retried_too(
    dag: dagger.Client, mirror: ReleaseMirror, faulty: FaultServer
) -> None:
    """The published sums come through the engine's http as well: a 503 there is retried, not read as "none"."""
    path = "/" + RELEASE_API_PATH.format(version=mirror.hooks_version)
    faulty.script(path, faults.fail(503), faults.reset_after(20))

    with download_policy(QUICK):
        digests = await fetch_release_digests(dag, f"{faulty.url}{path}")

    assert faulty.hits(path) == 3
    zip_name = f"actions-runner-hooks-k8s-{mirror.hooks_version}.zip"
    assert digests[zip_name] == mirror.sha(zip_name)


# --- never retried ---------------------------------------------------------------------
async def test_404_is_not_retried(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    path = path_of(spec.runner_url)
    faulty.script(path, faults.fail(404))

    with pytest.raises(DownloadError) as caught:
        await fetch_asset(dag, spec, runner_download(spec), policy=QUICK)

    assert faulty.hits(path) == 1
    assert f"could not read {spec.runner_url}: invalid response status 404" in str(caught.value)


async def test_checksum_mismatch_is_not_retried(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    """A cut body without a length reaches the checksum, which refuses it once and for all."""
    spec = spec_on(faulty, mirror, base_image)
    path = path_of(spec.runner_url)
    faulty.script(path, faults.short(100, sized=False))

    with pytest.raises(ChecksumError) as caught:
        await fetch_asset(dag, spec, runner_download(spec), policy=QUICK)

    assert faulty.hits(path) == 1
    message = str(caught.value)
    assert f"{spec.runner_asset} from {spec.runner_url}: expected SHA-256 {mirror.sha(spec.runner_asset)}" in message
    assert "(100 bytes)" in message


# --- through the whole pipeline: nothing published ---------------------------------------
async def test_publish_with_a_download_that_keeps_failing_publishes_nothing(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    faulty.script(path_of(spec.hooks_url), *[faults.fail(503)] * 10)
    address, repository, tag = unique_address(registry, "download-faults")

    with download_policy(QUICK), pytest.raises(DownloadError) as caught:
        await release(dag, [spec], address)

    assert spec.hooks_url in str(caught.value)
    assert faulty.hits(path_of(spec.hooks_url)) == QUICK.attempts
    assert not Registry(registry).has_tag(repository, tag), f"{address} was published despite {caught.value}"


async def test_publish_through_transient_faults_on_every_asset_succeeds(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    scripts = {
        spec.runner_url: faults.reset_after(300),
        spec.hooks_url: faults.fail(503),
        spec.hooks_novolume_url: faults.short(10),
    }
    for url, fault in scripts.items():
        faulty.script(path_of(url), fault)
    address, repository, tag = unique_address(registry, "download-faults")

    with download_policy(QUICK):
        published = await release(dag, [spec], address)

    assert published.startswith(f"{address}@sha256:")
    assert Registry(registry).has_tag(repository, tag)
    assert {url: faulty.hits(path_of(url)) for url in scripts} == dict.fromkeys(scripts, 2)


# --- through `python -m pipelines` ----------------------------------------------------------
def cli_args(server: FaultServer, mirror: ReleaseMirror, base_image: str, *extra: str) -> list[str]:
    return [*client_mode_flags(mirror, base_image, server.url), *extra]


async def run_cli(*args: str) -> tuple[int, str, str]:
    done = await anyio.run_process(
        [sys.executable, "-m", "pipelines", *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_cli_retries_transient_faults_and_smoke_tests(
    mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    faulty.script(path_of(spec.runner_url), faults.fail(503), faults.reset_after(500))
    faulty.script(path_of(spec.hooks_url), faults.short(10))

    code, out, err = await run_cli(
        "smoke-test", *cli_args(faulty, mirror, base_image, "--layout", "minimal", "--download-attempts", "3")
    )

    assert code == 0, err[-3000:]
    assert mirror.runner_version in out.splitlines(), out
    assert faulty.hits(path_of(spec.runner_url)) == 3
    assert faulty.hits(path_of(spec.hooks_url)) == 2


@pytest.mark.long
async def test_cli_stalled_download_exits_1_naming_the_url_and_the_limit(
    mirror: ReleaseMirror, base_image: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    faulty.script(path_of(spec.runner_url), *[faults.stall(60, after=100)] * 2)
    limits = ("--download-attempts", "2", "--download-timeout", f"{STALL_LIMIT:g}")

    code, _, err = await run_cli("build", *cli_args(faulty, mirror, base_image, *limits))

    assert code == 1, err[-3000:]
    assert f"error: download: {spec.runner_asset}: could not read {spec.runner_url}: " in err
    assert f"no complete answer within the {STALL_LIMIT:g} s limit" in err
    assert "Traceback" not in err


async def test_cli_publish_with_a_persistent_fault_exits_1_and_publishes_nothing(
    mirror: ReleaseMirror, base_image: str, registry: str, faulty: FaultServer
) -> None:
    spec = spec_on(faulty, mirror, base_image)
    faulty.script(path_of(spec.runner_url), *[faults.fail(500)] * 10)
    address, repository, tag = unique_address(registry, "download-faults")
    args = cli_args(faulty, mirror, base_image, "--arch", "amd64", "--address", address, "--download-attempts", "2")

    code, _, err = await run_cli("publish", *args)

    assert code == 1, err[-3000:]
    assert f"could not read {spec.runner_url}: invalid response status 500" in err
    assert faulty.hits(path_of(spec.runner_url)) == 2
    assert "Traceback" not in err
    assert not Registry(registry).has_tag(repository, tag)


async def test_dockers_apt_key_download_is_retried_and_a_404_is_named(
    dag: dagger.Client, mirror: ReleaseMirror, faulty: FaultServer
) -> None:
    key = mirror.root / "docker" / "debian" / "gpg"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_bytes(b"a key file")
    repo = DockerRepo(url=f"{faulty.url}/docker", os_id="debian", version_id="12", codename="bookworm", arch="amd64")
    faulty.script("/docker/debian/gpg", faults.fail(503), faults.reset_after(0))

    with download_policy(QUICK):
        file = await download_key(dag, repo)
    assert await file.contents() == "a key file"
    assert faulty.hits("/docker/debian/gpg") == 3

    missing = dataclasses.replace(repo, os_id="ubuntu")
    with download_policy(QUICK), pytest.raises(DownloadError) as caught:
        await download_key(dag, missing)
    assert str(caught.value).startswith(f"download: Docker's apt key: could not read {missing.key_url}: HTTP 404")
    assert "--docker-apt-url" in str(caught.value)
    assert faulty.hits("/docker/ubuntu/gpg") == 1  # a 404 is not retried
