"""Native per-arch publishes merged into one index, on the local registry; bad sources tag nothing."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import dagger
import pytest

from pipelines.release.merge import merge
from pipelines.release.tested import release
from pipelines.shared.contract import Layout
from pipelines.shared.errors import MergeError
from tests.engine.fixtures import ReleaseMirror
from tests.engine.registry import Registry, read_index
from tests.engine.test_pipeline import make_spec

pytestmark = pytest.mark.anyio
REPOSITORY = "runner-image-test/merge"
REPO = Path(__file__).resolve().parents[2]


def address(registry: str, tag: str | None = None) -> str:
    return f"{registry}/{REPOSITORY}:{tag or uuid.uuid4().hex[:12]}"


def split(reference: str) -> tuple[str, str]:
    """(repository, tag or digest) of host/repo[:tag][@digest]."""
    name = reference.split("/", 1)[1]
    name, _, digest = name.partition("@")
    repository, _, tag = name.rpartition(":")
    return repository, digest or tag


@pytest.fixture(scope="module")
async def staged(dag: dagger.Client, mirror: ReleaseMirror, base_image: str, registry: str) -> dict[str, str]:
    """arch -> ref@digest of the hosted image `publish --arch <arch>` pushed to a staging tag, as CI's matrix does."""
    stage = uuid.uuid4().hex[:8]
    return {
        arch: await release(
            dag, [make_spec(mirror, base_image, arch, Layout.HOSTED)], address(registry, f"{stage}-{arch}")
        )
        for arch in ("amd64", "arm64")
    }


@pytest.fixture
async def refused(dag: dagger.Client, registry: str) -> AsyncIterator[tuple[str, str]]:
    """A release address that must stay untagged: (address, tag)."""
    target = address(registry)
    yield target, split(target)[1]
    assert not Registry(registry).has_tag(REPOSITORY, split(target)[1]), f"{target} was tagged by a refused merge"


async def test_merge_tags_one_index_of_the_staged_images(
    dag: dagger.Client, mirror: ReleaseMirror, registry: str, staged: dict[str, str]
) -> None:
    release_tag, latest = address(registry), address(registry)
    merged = await merge(
        dag, [staged["arm64"], staged["amd64"]], [release_tag, latest], runner_version=mirror.runner_version
    )

    assert merged.startswith(f"{release_tag}@sha256:")
    reg = Registry(registry)
    digest = merged.rsplit("@", 1)[1]
    index = reg.manifest(REPOSITORY, split(latest)[1])
    assert reg.manifest(REPOSITORY, digest) == index  # every address carries the same index
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "arm64"]
    images = read_index(reg, merged)
    for entry in index["manifests"]:
        arch = entry["platform"]["architecture"]
        source = reg.manifest(*split(staged[arch]))
        member = reg.manifest(REPOSITORY, entry["digest"])
        # What Dagger writes (found here, said in the README): the same layers
        # and the same image config but for `created` and the last history
        # entry, so the index's manifests are new ones, not the pushed digests.
        assert [layer["digest"] for layer in member["layers"]] == [layer["digest"] for layer in source["layers"]]
        assert entry["digest"] != split(staged[arch])[1]
        staged_config = json.loads(reg.blob(REPOSITORY, source["config"]["digest"]))
        config = images[f"linux/{arch}"].config
        assert config["config"] == staged_config["config"]
        assert config["rootfs"] == staged_config["rootfs"]
        assert config["architecture"] == arch
        assert config["config"]["Labels"]["org.opencontainers.image.version"] == mirror.runner_version


async def test_merge_with_a_missing_source_refuses_and_tags_nothing(
    dag: dagger.Client, mirror: ReleaseMirror, registry: str, staged: dict[str, str], refused: tuple[str, str]
) -> None:
    missing = address(registry, "never-pushed-arm64")
    with pytest.raises(MergeError) as caught:
        await merge(dag, [staged["amd64"], missing], [refused[0]], runner_version=mirror.runner_version)
    message = str(caught.value)
    assert f'source "{missing}"' in message
    assert "not found" in message
    assert "publish --arch" in message  # what to do


async def test_merge_with_a_wrong_platform_source_refuses_and_tags_nothing(
    dag: dagger.Client, mirror: ReleaseMirror, registry: str, staged: dict[str, str], refused: tuple[str, str]
) -> None:
    """amd64 twice (by digest and by its staging tag) where amd64 and arm64 are asked."""
    by_tag = staged["amd64"].split("@")[0]
    with pytest.raises(MergeError) as caught:
        await merge(dag, [staged["amd64"], by_tag], [refused[0]], runner_version=mirror.runner_version)
    message = str(caught.value)
    assert f'source "{by_tag}": expected each platform once, found linux/amd64' in message
    assert "platform linux/arm64: expected a source for it, found none" in message


async def test_merge_of_an_arch_not_asked_for_refuses_and_tags_nothing(
    dag: dagger.Client, mirror: ReleaseMirror, staged: dict[str, str], refused: tuple[str, str]
) -> None:
    with pytest.raises(MergeError) as caught:
        await merge(dag, [staged["arm64"]], [refused[0]], arches=["amd64"], runner_version=mirror.runner_version)
    message = str(caught.value)
    assert f'source "{staged["arm64"]}": expected an image for linux/amd64, found linux/arm64' in message


async def test_merge_of_another_runner_version_or_layout_refuses_and_tags_nothing(
    dag: dagger.Client, mirror: ReleaseMirror, staged: dict[str, str], refused: tuple[str, str]
) -> None:
    with pytest.raises(MergeError) as caught:
        await merge(dag, list(staged.values()), [refused[0]], layout=Layout.MINIMAL, runner_version="2.400.0")
    message = str(caught.value)
    assert f'expected label org.opencontainers.image.version="2.400.0", found "{mirror.runner_version}"' in message
    assert 'expected label dev.runner-image.layout="minimal", found "hosted"' in message


async def test_a_multi_platform_index_is_not_a_source(
    dag: dagger.Client, mirror: ReleaseMirror, registry: str, staged: dict[str, str], refused: tuple[str, str]
) -> None:
    index = await merge(dag, list(staged.values()), [address(registry)], runner_version=mirror.runner_version)
    with pytest.raises(MergeError) as caught:
        await merge(dag, [index, staged["arm64"]], [refused[0]], runner_version=mirror.runner_version)
    assert f'source "{index}": expected a single-platform image, found a multi-platform index' in str(caught.value)


async def test_client_mode_merge_prints_the_index_and_refuses_a_wrong_version(
    mirror: ReleaseMirror, registry: str, staged: dict[str, str]
) -> None:
    """`python -m pipelines merge`, as the README types it."""
    target = address(registry)
    sources = ["--source", staged["amd64"], "--source", staged["arm64"], "--address", target]

    async def cli(*args: str) -> tuple[int, str, str]:
        done = await anyio.run_process([sys.executable, "-m", "pipelines", "merge", *args],
                                       env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO, check=False)  # fmt: skip
        return done.returncode, done.stdout.decode(), done.stderr.decode()

    code, out, err = await cli("--runner-version", "2.400.0", *sources)
    assert code == 1, err[-3000:]
    assert 'error: merge: source "' in err
    assert 'org.opencontainers.image.version="2.400.0"' in err
    assert not Registry(registry).has_tag(REPOSITORY, split(target)[1])

    code, out, err = await cli("--runner-version", mirror.runner_version, *sources)
    assert code == 0, err[-3000:]
    assert out.strip().startswith(f"{target}@sha256:")
    assert sorted(read_index(Registry(registry), target)) == ["linux/amd64", "linux/arm64"]
