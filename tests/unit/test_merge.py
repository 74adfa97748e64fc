"""Merge's checks, before anything is read or written (pure: no engine)."""

from __future__ import annotations

import pytest

from pipelines.release.merge import Source, check_inputs, check_sources, merge
from pipelines.shared.contract import Layout
from pipelines.shared.errors import MergeError

REF = "ghcr.io/o/runner:staging"


def source(arch: str, *, layout: str | None = "hosted", version: str | None = "2.337.0", ref: str = "") -> Source:
    reference = ref or f"{REF}-{arch}"
    return Source(reference=reference, pinned=f"{reference}@sha256:{'a' * 64}", platform=f"linux/{arch}",
                  layout=layout, version=version)  # fmt: skip


def check(sources: list[Source], arches: tuple[str, ...] = ("amd64", "arm64"), layout: Layout = Layout.HOSTED) -> str:
    with pytest.raises(MergeError) as caught:
        check_sources(sources, arches=arches, layout=layout, runner_version="2.337.0")
    return str(caught.value)


def test_one_source_per_asked_platform_of_one_layout_and_version_passes() -> None:
    check_sources([source("arm64"), source("amd64")], arches=("amd64", "arm64"), layout=Layout.HOSTED,
                  runner_version="2.337.0")  # fmt: skip
    check_sources([source("arm64", layout="minimal")], arches=("arm64",), layout=Layout.MINIMAL,
                  runner_version="2.337.0")  # fmt: skip


def test_a_missing_platform_is_named_with_what_to_do() -> None:
    message = check([source("amd64")])
    assert message.startswith("merge: platform linux/arm64: expected a source for it, found none among")
    assert "publish --arch arm64" in message


def test_a_platform_twice_and_one_not_asked() -> None:
    message = check([source("amd64"), source("amd64", ref="x/y:other")])
    assert 'source "x/y:other": expected each platform once, found linux/amd64 in "ghcr.io/o/runner:staging-amd64"' in (
        message
    )
    message = check([source("arm64")], arches=("amd64",))
    assert 'source "ghcr.io/o/runner:staging-arm64": expected an image for linux/amd64, found linux/arm64' in message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"layout": "minimal"}, 'dev.runner-image.layout="hosted", found "minimal"'),
        ({"version": "2.336.0"}, 'org.opencontainers.image.version="2.337.0", found "2.336.0"'),
        ({"layout": None}, "found no such label (not an image this module built)"),
    ],
)
def test_labels_must_match(changes: dict[str, str | None], expected: str) -> None:
    message = check([source("amd64"), source("arm64", **changes)])  # type: ignore[arg-type]
    assert f'source "{REF}-arm64": expected label ' in message
    assert expected in message


@pytest.mark.parametrize(
    ("references", "addresses", "arches", "expected"),
    [
        ([], ["o/r:1"], ["amd64"], "source: expected one per-arch image per --arch (amd64), found none"),
        (["o/r:a"], [], ["amd64"], "address: expected at least one release address"),
        (["o/r:a", "o/r:a"], ["o/r:1"], ["amd64"], 'source "o/r:a": expected each source once, found it 2 times'),
        (["o/r:a"], ["o/r:1", "o/r:1"], ["amd64"], 'address "o/r:1": expected each address once'),
        (["O/r:a"], ["o/r:1"], ["amd64"], 'source "O/r:a": expected a docker reference'),
        (["o/r:a"], ["o/r@sha256:" + "a" * 64], ["amd64"], "found a digest"),
        (["o/r:a"], ["o/r:1"], ["amd64", "amd64"], "arch: expected each of amd64, arm64 at most once"),
    ],
)
def test_inputs_are_refused_before_anything_is_read(
    references: list[str], addresses: list[str], arches: list[str], expected: str
) -> None:
    with pytest.raises(MergeError) as caught:
        check_inputs(references, addresses, arches)
    assert expected in str(caught.value)


@pytest.mark.anyio
async def test_merge_checks_inputs_and_credentials_before_using_the_client() -> None:
    # No client: both refusals happen before anything is read.
    with pytest.raises(MergeError, match="expected at least one release address"):
        await merge(None, ["o/r:a"], [], runner_version="2.337.0")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="username given without password"):
        await merge(None, ["o/r:a"], ["o/r:1"], runner_version="2.337.0", username="me")  # type: ignore[arg-type]
