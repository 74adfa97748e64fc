"""The rules of fetching, against a real engine: what is refused before any download, what opting out does.

Wrong sums, error pages, 404s, archives without run.sh and local archives are in
test_pipeline.py and test_entrypoints.py; this file covers the rest.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging

import dagger
import pytest

from pipelines.image.fetch import fetch_runner
from pipelines.network.published import fetch_release_digests
from pipelines.release.tested import build_and_test
from pipelines.shared.contract import Layout
from pipelines.shared.errors import ChecksumError, DownloadError, UpstreamError
from tests.engine.fake_upstream import FakeUpstream, runner_release
from tests.engine.fixtures import RELEASE_API_PATH, ReleaseMirror
from tests.engine.test_pipeline import make_spec

pytestmark = pytest.mark.anyio

NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
UNSERVED = "9.9.7"  # a runner or hooks version the mirror has no asset for: any download of it is a 404


async def test_no_known_sum_is_refused_before_downloading_and_without_asking_github(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    """Nothing passed, nothing pinned, a mirror: refuse, say what to pass, and ask no releases API.

    The spec's GitHub API is a server on 127.0.0.1 that would vouch for the
    asset if asked; it counts its requests and must see none.
    """
    with FakeUpstream() as github:
        github.releases("actions/runner", [runner_release(UNSERVED, {"x64": "a" * 64, "arm64": "b" * 64}, NOW)])
        spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED, runner_version=UNSERVED, github_api_url=github.api)
        assert spec.runner_sha256 is None

        with pytest.raises(ChecksumError) as caught:
            await build_and_test(dag, spec)

    message = str(caught.value)  # a download would have been a DownloadError: the asset is a 404
    assert message.startswith(f"checksum: {spec.runner_asset}: expected a known SHA-256")
    assert "--runner-checksum amd64=<SHA-256>" in message
    assert "--allow-unverified" in message
    assert sum(github.hits.values()) == 0, dict(github.hits)  # no releases API was asked


async def test_opt_out_skips_the_comparison_but_warns(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str, caplog: pytest.LogCaptureFixture
) -> None:
    """--allow-unverified hands over the 9-byte error body unchecked (unpack refuses it later), loudly."""
    spec = make_spec(mirror, base_image, "amd64", Layout.HOSTED, runner_version="9.9.9", allow_unverified=True)
    spec = dataclasses.replace(spec, runner_sha256=None)

    with caplog.at_level(logging.WARNING, logger="pipelines.image.fetch"):
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


async def test_unserved_novolume_version_says_what_to_do_and_dropping_it_builds(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    """k8s-novolume/ is the k8s zip of hooks_novolume_version: a release without it is a 404 naming both ways out."""
    spec = make_spec(
        mirror, base_image, "amd64", Layout.MINIMAL, hooks_novolume_version=UNSERVED, hooks_novolume_sha256="e" * 64
    )
    assert spec.hooks_novolume_asset == f"actions-runner-hooks-k8s-{UNSERVED}.zip"  # no "novolume" asset upstream

    with pytest.raises(DownloadError) as caught:
        await build_and_test(dag, spec)

    message = str(caught.value)
    assert message.startswith(f"download: {spec.hooks_novolume_asset}: could not read {spec.hooks_novolume_url}")
    assert "404" in message
    assert "--hooks-novolume-version" in message
    assert message.endswith("--novolume-hooks=false")

    without = dataclasses.replace(spec, novolume_hooks=False, hooks_novolume_sha256=None)
    passed = await build_and_test(dag, without)
    assert passed.version == mirror.runner_version
    assert await passed.container.label("dev.runner-image.hooks.version") == mirror.hooks_version
    assert await passed.container.label("dev.runner-image.hooks-novolume.version") is None
    root = spec.contract.runner_dir
    ls = passed.container.with_exec(["sh", "-c", f"cat {root}/k8s/index.js; ls {root}"])
    listing = await ls.stdout()
    assert f"hooks k8s {mirror.hooks_version}" in listing
    assert "k8s-novolume" not in listing.split()


async def test_one_version_for_both_folders_unpacks_one_zip_twice(
    dag: dagger.Client, mirror: ReleaseMirror, base_image: str
) -> None:
    """Both settings on one release: same asset name for both folders, one sum vouches for both."""
    spec = make_spec(mirror, base_image, "arm64", Layout.MINIMAL, hooks_novolume_version=mirror.hooks_version)
    spec = dataclasses.replace(spec, hooks_novolume_sha256=None)  # the k8s/ sum covers the same zip
    assert spec.hooks_novolume_asset == spec.hooks_asset

    ctr = (await build_and_test(dag, spec)).container

    root = spec.contract.runner_dir
    found = await ctr.with_exec(["sh", "-c", f"cat {root}/k8s/index.js {root}/k8s-novolume/index.js"]).stdout()
    assert found.count(f"hooks k8s {mirror.hooks_version}") == 2


@pytest.mark.parametrize("where", ["api digest", "release notes"])
async def test_release_sums_are_read_through_the_engine_from_digests_or_notes(
    dag: dagger.Client, mirror: ReleaseMirror, where: str
) -> None:
    """The mirror's API answer has digests for hooks_version, only the notes' sums section for the other."""
    version = mirror.hooks_version if where == "api digest" else mirror.hooks_novolume_version
    api_url = f"{mirror.base_url}/{RELEASE_API_PATH.format(version=version)}"

    digests = await fetch_release_digests(dag, api_url)

    names = [f"actions-runner-hooks-{flavour}-{version}.zip" for flavour in ("k8s", "docker")]
    assert digests == {name: mirror.sha(name) for name in names}


async def test_an_unreadable_release_is_an_error_naming_the_url_and_its_status(
    dag: dagger.Client, mirror: ReleaseMirror
) -> None:
    missing = f"{mirror.base_url}/{RELEASE_API_PATH.format(version=UNSERVED)}"
    with pytest.raises(UpstreamError) as caught:
        await fetch_release_digests(dag, missing)
    assert str(caught.value).startswith(f"upstream: could not read {missing}: HTTP 404")
    assert caught.value.status == 404
