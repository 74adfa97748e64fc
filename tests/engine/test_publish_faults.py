"""Publish faults against a real engine: a registry proxy fails chosen uploads; read back, nothing partial.

The proxy (tests/engine/registry_proxy.py) stands between the engine and the
local registry on 127.0.0.1; what was published is read from the registry
itself, not through the proxy. Dagger 0.21.8 pushes blobs, then the platform
manifests by digest, then the root manifest under the tag, and retries none
of it (engine/server/resolver/resolver.go, PushImage).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import anyio
import dagger
import pytest

from pipelines.network.download import DownloadPolicy, download_policy
from pipelines.release.tested import release
from pipelines.shared.contract import Layout
from pipelines.shared.errors import PublishError
from pipelines.shared.spec import RunnerSpec
from tests.engine.fixtures import ReleaseMirror
from tests.engine.registry import Registry, read_index
from tests.engine.registry_proxy import BLOB_PUT, MANIFEST_PUT, RegistryProxy, Rule, failing
from tests.engine.test_pipeline import make_spec

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]
QUICK = DownloadPolicy(attempts=3, timeout=300, backoff=0.2, max_backoff=1)
ALWAYS = range(1, 100)  # every occurrence (far more than any test's attempts)
REPOSITORY = "runner-image-test/publish-faults"


def tag_put(tag: str) -> tuple[str, str]:
    """The upload of the root manifest: the only request that writes the tag."""
    return ("PUT", rf"/manifests/{tag}$")


def digest_manifest_put() -> tuple[str, str]:
    """The upload of a platform manifest, by digest (before the root)."""
    return ("PUT", r"/manifests/sha256:")


def both_arches(mirror: ReleaseMirror, base_image: str, revision: str) -> list[RunnerSpec]:
    """Both arches, labelled with revision: a config blob the registry has never seen, so it is uploaded."""
    return [make_spec(mirror, base_image, arch, Layout.HOSTED, revision=revision) for arch in ("amd64", "arm64")]


# --- what Dagger does alone -----------------------------------------------------------------
async def test_engine_publish_does_not_retry_and_a_second_call_pushes_again(
    dag: dagger.Client, base_image: str, registry: str
) -> None:
    tag = uuid.uuid4().hex[:12]
    ctr = dag.container().from_(base_image).with_new_file("/marker", tag)
    with RegistryProxy(registry, failing(BLOB_PUT, 1)) as proxy:
        address = f"{proxy.address}/{REPOSITORY}:{tag}"

        with pytest.raises(dagger.QueryError):
            await ctr.publish(address)
        assert not Registry(registry).has_tag(REPOSITORY, tag)
        assert proxy.count(tag_put(tag)) == 0  # gave up before the tag

        await ctr.publish(address)  # the failure was not cached: this pushes again
    assert Registry(registry).has_tag(REPOSITORY, tag)


# --- what the pipeline adds -----------------------------------------------------------------
@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(lambda tag: failing(BLOB_PUT, 1), id="blob-upload-500"),
        pytest.param(lambda tag: failing(BLOB_PUT, 1, status=0), id="blob-upload-dropped"),
        pytest.param(lambda tag: failing(digest_manifest_put(), 1, status=503), id="platform-manifest-503"),
        pytest.param(lambda tag: failing(tag_put(tag), 1, status=0), id="index-dropped"),
    ],
)
async def test_transient_registry_fault_is_retried_and_the_whole_image_published(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str, rule: Callable[[str], Rule]
) -> None:
    tag = uuid.uuid4().hex[:12]
    with RegistryProxy(registry, rule(tag)) as proxy:
        address = f"{proxy.address}/{REPOSITORY}:{tag}"
        with download_policy(QUICK):
            published = await release(dag, both_arches(mirror, base_image, tag), address)
        faulted = [entry for entry in proxy.log if entry[2] in {0, 500, 503}]

    assert len(faulted) == 1, proxy.log
    digest = published.rpartition("@")[2]
    assert Registry(registry).manifest(REPOSITORY, tag) == Registry(registry).manifest(REPOSITORY, digest)
    images = read_index(Registry(registry), f"{registry}/{REPOSITORY}@{digest}")  # every blob readable
    assert sorted(images) == ["linux/amd64", "linux/arm64"]


@pytest.mark.parametrize(
    "what",
    [pytest.param("index", id="index-upload-fails"), pytest.param("platform", id="platform-manifest-fails")],
)
async def test_persistent_manifest_failure_is_a_clear_error_and_no_tag(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str, what: str
) -> None:
    tag = uuid.uuid4().hex[:12]
    target = tag_put(tag) if what == "index" else digest_manifest_put()
    with RegistryProxy(registry, failing(target, *ALWAYS)) as proxy:
        address = f"{proxy.address}/{REPOSITORY}:{tag}"
        with download_policy(QUICK), pytest.raises(PublishError) as caught:
            await release(dag, both_arches(mirror, base_image, tag), address)
        index_puts = proxy.count(tag_put(tag))

    message = str(caught.value)
    assert message.startswith(f'publish: pushing 2 platform(s) to "{address}" without credentials failed: ')
    assert f"gave up after {QUICK.attempts} attempt(s)" in message
    assert not Registry(registry).has_tag(REPOSITORY, tag), f"{address} was tagged despite {message}"
    # The index (and with it the tag) is only sent once every platform manifest is in
    # (containerd sends a refused manifest twice, so each attempt may count two PUTs).
    if what == "index":
        assert index_puts >= QUICK.attempts
    else:
        assert index_puts == 0


async def test_two_publishes_to_one_tag_at_once_leave_one_complete_image(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    tag = uuid.uuid4().hex[:12]
    address = f"{registry}/{REPOSITORY}:{tag}"
    results: dict[str, str] = {}

    async def publish(revision: str) -> None:
        specs = [make_spec(mirror, base_image, arch, Layout.HOSTED, revision=revision) for arch in ("amd64", "arm64")]
        results[revision] = await release(dag, specs, address)

    async with anyio.create_task_group() as tg:
        for revision in ("first", "second"):
            tg.start_soon(publish, revision)

    digests = {revision: published.rpartition("@")[2] for revision, published in results.items()}
    assert len(set(digests.values())) == 2  # two different images raced for the tag
    images = read_index(Registry(registry), address)
    assert sorted(images) == ["linux/amd64", "linux/arm64"]
    revisions = {image.config["config"]["Labels"]["org.opencontainers.image.revision"] for image in images.values()}
    assert len(revisions) == 1, revisions  # the tag names one image, not a mix of the two
    (winner,) = revisions
    assert Registry(registry).manifest(REPOSITORY, tag) == Registry(registry).manifest(REPOSITORY, digests[winner])


# --- through `python -m pipelines publish` -----------------------------------------------------
async def test_cli_publish_retries_a_dropped_upload_and_a_failing_registry_exits_1_with_no_tag(
    mirror: ReleaseMirror, base_image: str, registry: str
) -> None:
    v, h, n = mirror.runner_version, mirror.hooks_version, mirror.hooks_novolume_version
    common = [
        *("--runner-version", v, "--hooks-version", h, "--hooks-novolume-version", n, "--base-image", base_image),
        *("--runner-base-url", f"{mirror.base_url}/runner", "--hooks-base-url", f"{mirror.base_url}/hooks"),
        *("--runner-checksum", f"amd64={mirror.sha(f'actions-runner-linux-x64-{v}.tar.gz')}"),
        *("--hooks-checksum", mirror.sha(f"actions-runner-hooks-k8s-{h}.zip")),
        *("--hooks-novolume-checksum", mirror.sha(f"actions-runner-hooks-k8s-{n}.zip")),
        *("--arch", "amd64", "--layout", "minimal", "--download-attempts", "2"),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    good, bad = uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]
    rules: list[Rule] = [failing(BLOB_PUT, 1, status=0), failing(tag_put(bad), *ALWAYS)]

    with RegistryProxy(registry, *rules) as proxy:
        runs = {}
        for tag in (good, bad):
            address = f"{proxy.address}/{REPOSITORY}:{tag}"
            args = [sys.executable, "-m", "pipelines", "publish", *common, "--revision", tag, "--address", address]
            runs[tag] = await anyio.run_process(args, env=env, cwd=REPO, check=False)

    ok, failed = runs[good], runs[bad]
    assert ok.returncode == 0, ok.stderr.decode()[-3000:]
    assert Registry(registry).has_tag(REPOSITORY, good)
    assert ("PUT", 0) in {(method, status) for method, _, status in proxy.log}  # the dropped upload happened
    err = failed.stderr.decode()
    assert failed.returncode == 1, err[-3000:]
    assert f'error: publish: pushing 1 platform(s) to "{proxy.address}/{REPOSITORY}:{bad}"' in err
    assert "gave up after 2 attempt(s)" in err
    assert "Traceback" not in err
    assert not Registry(registry).has_tag(REPOSITORY, bad)
    assert proxy.count(MANIFEST_PUT) >= 2
