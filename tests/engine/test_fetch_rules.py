"""The rules of fetching, against a real engine: what is refused before any download, what opting out does.

Wrong sums, error pages, 404s, archives without run.sh and local archives are in
test_pipeline.py and test_entrypoints.py; this file covers the rest.
"""

from __future__ import annotations

import dataclasses
import logging

import dagger
import pytest

from pipelines.checksums import fetch_release_digests
from pipelines.errors import ChecksumError, DownloadError
from pipelines.fetch import fetch_runner
from pipelines.spec import Layout
from pipelines.verify import build_and_test
from tests.engine.fixtures import OLD_HOOKS_VERSION, RELEASE_API_PATH, ReleaseMirror
from tests.engine.test_pipeline import make_spec

pytestmark = pytest.mark.anyio

UNSERVED = "9.9.7"  # a runner version the mirror has no asset for: any download of it is a 404


async def test_no_known_sum_is_refused_before_downloading_and_without_asking_github(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing passed, nothing pinned, a mirror (no releases API): refuse, and say what to pass."""
    spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED, runner_version=UNSERVED)
    assert spec.runner_sha256 is None

    with caplog.at_level(logging.WARNING, logger="pipelines"), pytest.raises(ChecksumError) as caught:
        await build_and_test(dag, spec)

    message = str(caught.value)  # a download would have been a DownloadError: the asset is a 404
    assert message.startswith(f"checksum: {spec.runner_asset}: expected a known SHA-256")
    assert "--runner-checksum amd64=<SHA-256>" in message
    assert "--allow-unverified" in message
    assert "published digests" not in caplog.text  # no releases API was asked


async def test_opt_out_skips_the_comparison_but_warns(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, caplog: pytest.LogCaptureFixture
) -> None:
    """--allow-unverified hands over the 9-byte error body unchecked (unpack refuses it later), loudly."""
    spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED, runner_version="9.9.9", allow_unverified=True)
    spec = dataclasses.replace(spec, runner_sha256=None)

    with caplog.at_level(logging.WARNING, logger="pipelines.fetch"):
        file = await fetch_runner(dag, spec)

    assert await file.size() == 9
    assert "NOT verified (--allow-unverified)" in caplog.text
    assert spec.runner_asset in caplog.text
    assert spec.runner_url in caplog.text


async def test_opt_out_still_reports_download_errors(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED, runner_version=UNSERVED, allow_unverified=True)

    with pytest.raises(DownloadError) as caught:
        await fetch_runner(dag, spec)

    message = str(caught.value)
    assert spec.runner_url in message
    assert "404" in message


async def test_missing_novolume_zip_says_how_to_drop_it_and_dropping_it_builds(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    """Hooks before 0.8 ship no k8s-novolume zip: the error says --novolume-hooks=false, which then works."""
    spec = dataclasses.replace(
        make_spec(mirror, base_image, "amd64", Layout.MINIMAL),
        hooks_version=OLD_HOOKS_VERSION,
        hooks_sha256=mirror.sha(f"actions-runner-hooks-k8s-{OLD_HOOKS_VERSION}.zip"),
        hooks_novolume_sha256="e" * 64,
    )

    with pytest.raises(DownloadError) as caught:
        await build_and_test(dag, spec)

    message = str(caught.value)
    assert message.startswith(f"download: {spec.hooks_novolume_asset}: could not read {spec.hooks_novolume_url}")
    assert "404" in message
    assert message.endswith("pass --novolume-hooks=false")

    without = dataclasses.replace(spec, novolume_hooks=False, hooks_novolume_sha256=None)
    verified = await build_and_test(dag, without)
    assert verified.version == mirror.runner_version
    assert await verified.container.label("dev.runner-image.hooks.version") == OLD_HOOKS_VERSION
    root = spec.contract.runner_dir
    ls = verified.container.with_exec(["sh", "-c", f"cat {root}/k8s/index.js; ls {root}"])
    listing = await ls.stdout()
    assert f"hooks {OLD_HOOKS_VERSION}" in listing
    assert "k8s-novolume" not in listing.split()


async def test_release_digests_are_read_through_the_engine_and_a_bad_url_gives_none(
    dag: dagger.Client, mirror: ReleaseMirror, caplog: pytest.LogCaptureFixture
) -> None:
    h = mirror.hooks_version
    api_url = f"{mirror.base_url}/{RELEASE_API_PATH.format(version=h)}"

    digests = await fetch_release_digests(dag, api_url)

    assert digests == {
        f"actions-runner-hooks-k8s-{h}.zip": mirror.sha(f"actions-runner-hooks-k8s-{h}.zip"),
        f"actions-runner-hooks-k8s-novolume-{h}.zip": mirror.sha(f"actions-runner-hooks-k8s-novolume-{h}.zip"),
    }

    missing = f"{mirror.base_url}/{RELEASE_API_PATH.format(version='9.9.7')}"
    with caplog.at_level(logging.WARNING, logger="pipelines.checksums"):
        assert await fetch_release_digests(dag, missing) == {}
    assert f"could not read published digests from {missing}" in caplog.text
