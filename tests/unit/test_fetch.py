"""Verification before unpacking: sums, sizes, download errors (fake client, no engine)."""

from __future__ import annotations

import hashlib
import logging

import pytest

from pipelines.errors import ChecksumError, DownloadError
from pipelines.fetch import digest_matches, engine_digest, fetch_hooks, fetch_hooks_novolume, fetch_runner
from pipelines.spec import RunnerSpec
from tests.unit.fakes import FakeClient, FakeFile, engine_digest_of

TARBALL = b"\x1f\x8b pretend this is a runner tarball" * 100
HOOKS = b"PK pretend this is a hooks zip"
ERROR_BODY = b"Not Found"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mirror_spec(**kw: object) -> RunnerSpec:
    base = {
        "runner_version": "2.399.1",
        "hooks_version": "0.9.2",
        "runner_base_url": "http://127.0.0.1:9/runner",
        "hooks_base_url": "http://127.0.0.1:9/hooks",
        "runner_sha256": sha(TARBALL),
        "hooks_sha256": sha(HOOKS),
        "hooks_novolume_sha256": sha(HOOKS),
    }
    return RunnerSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_engine_digest_is_sha256_of_the_raw_sum() -> None:
    # Dagger 0.21.8 core/file.go: digest.FromBytes(sha256(content).Sum(nil))
    assert engine_digest(sha(TARBALL)) == engine_digest_of(TARBALL)
    assert digest_matches(engine_digest_of(TARBALL), sha(TARBALL))
    assert digest_matches("sha256:" + sha(TARBALL), sha(TARBALL))  # if a later engine fixes it
    assert not digest_matches(engine_digest_of(ERROR_BODY), sha(TARBALL))
    assert not digest_matches("sha256:" + sha(ERROR_BODY), sha(TARBALL))


@pytest.mark.anyio
async def test_matching_download_is_returned() -> None:
    spec = mirror_spec()
    client = FakeClient(bodies={spec.runner_url: TARBALL})
    file = await fetch_runner(client, spec)  # type: ignore[arg-type]
    assert file.data == TARBALL  # type: ignore[attr-defined]
    assert client.http_calls == [spec.runner_url]


@pytest.mark.anyio
async def test_error_page_is_refused_with_both_sums_and_size() -> None:
    spec = mirror_spec()
    client = FakeClient(bodies={spec.runner_url: ERROR_BODY})
    with pytest.raises(ChecksumError) as e:
        await fetch_runner(client, spec)  # type: ignore[arg-type]
    message = str(e.value)
    assert spec.runner_asset in message
    assert spec.runner_url in message
    assert f"expected SHA-256 {sha(TARBALL)}" in message
    assert f"found {sha(ERROR_BODY)}" in message
    assert "(9 bytes)" in message
    assert "error page" in message
    assert "Nothing was unpacked" in message
    assert "--runner-sha256" in message


@pytest.mark.anyio
async def test_large_wrong_body_has_no_error_page_hint() -> None:
    spec = mirror_spec()
    client = FakeClient(bodies={spec.runner_url: TARBALL + b"x"})
    with pytest.raises(ChecksumError) as e:
        await fetch_runner(client, spec)  # type: ignore[arg-type]
    assert "error page" not in str(e.value)


@pytest.mark.anyio
async def test_http_failure_is_a_download_error_naming_the_url() -> None:
    spec = mirror_spec()
    with pytest.raises(DownloadError) as e:
        await fetch_hooks(FakeClient(), spec)  # type: ignore[arg-type]
    message = str(e.value)
    assert message.startswith("download: actions-runner-hooks-k8s-0.9.2.zip")
    assert spec.hooks_url in message
    assert "404" in message
    assert "--hooks-archive" in message


@pytest.mark.anyio
async def test_local_archive_is_verified_and_not_downloaded() -> None:
    spec = mirror_spec()
    client = FakeClient()
    assert await fetch_hooks_novolume(client, spec, FakeFile(HOOKS)) is not None  # type: ignore[arg-type]
    with pytest.raises(ChecksumError, match="the local file given as --runner-archive"):
        await fetch_runner(client, spec, FakeFile(HOOKS))  # type: ignore[arg-type]
    assert client.http_calls == []


@pytest.mark.anyio
async def test_no_sum_refuses_before_downloading() -> None:
    spec = mirror_spec(runner_sha256=None)
    client = FakeClient(bodies={spec.runner_url: TARBALL})
    with pytest.raises(ChecksumError, match=r"--runner-sha256.*--allow-unverified"):
        await fetch_runner(client, spec)  # type: ignore[arg-type]
    assert client.http_calls == []


@pytest.mark.anyio
async def test_pinned_sum_is_used_when_none_is_given() -> None:
    spec = RunnerSpec()  # 2.337.0 x64 is pinned
    client = FakeClient(bodies={spec.runner_url: ERROR_BODY})
    with pytest.raises(ChecksumError, match="70920811a4f8ad4328818682bca5c6469c1c942fab52448868071d0063816613"):
        await fetch_runner(client, spec)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_opt_out_skips_the_comparison_but_warns(caplog: pytest.LogCaptureFixture) -> None:
    spec = mirror_spec(runner_sha256=None, allow_unverified=True)
    client = FakeClient(bodies={spec.runner_url: ERROR_BODY})
    with caplog.at_level(logging.WARNING, logger="pipelines.fetch"):
        await fetch_runner(client, spec)  # type: ignore[arg-type]
    assert "NOT verified" in caplog.text
    assert spec.runner_asset in caplog.text


@pytest.mark.anyio
async def test_opt_out_still_reports_download_errors() -> None:
    spec = mirror_spec(allow_unverified=True)
    with pytest.raises(DownloadError):
        await fetch_runner(FakeClient(), spec)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_missing_novolume_zip_says_how_to_drop_it() -> None:
    spec = mirror_spec()
    with pytest.raises(DownloadError, match=r"--novolume-hooks=false"):
        await fetch_hooks_novolume(FakeClient(), spec)  # type: ignore[arg-type]
