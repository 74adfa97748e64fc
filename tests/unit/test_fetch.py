"""What fetching expects and says, as pure functions; the downloads themselves are in tests/engine."""

from __future__ import annotations

import hashlib

from pipelines.image.fetch import (
    download_error_message,
    hooks_download,
    hooks_novolume_download,
    mismatch_message,
    runner_download,
    source,
)
from pipelines.network.download import digest_matches, engine_digest
from pipelines.shared.pins import PINS
from pipelines.shared.spec import RunnerSpec

TARBALL = b"\x1f\x8b pretend this is a runner tarball" * 100
ERROR_BODY = b"Not Found"
X64 = "70920811a4f8ad4328818682bca5c6469c1c942fab52448868071d0063816613"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dagger_digest(data: bytes) -> str:
    """Dagger 0.21.8 core/file.go: digest.FromBytes(sha256(content).Sum(nil))."""
    return "sha256:" + hashlib.sha256(hashlib.sha256(data).digest()).hexdigest()


def mirror_spec(**kw: object) -> RunnerSpec:
    base = {
        "runner_version": "2.399.1",
        "hooks_version": "0.7.9",
        "hooks_novolume_version": "0.9.2",
        "runner_base_url": "http://127.0.0.1:9/runner",
        "hooks_base_url": "http://127.0.0.1:9/hooks",
        "runner_sha256": sha(TARBALL),
    }
    return RunnerSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_engine_digest_is_sha256_of_the_raw_sum() -> None:
    assert engine_digest(sha(TARBALL)) == dagger_digest(TARBALL)
    assert digest_matches(dagger_digest(TARBALL), sha(TARBALL))
    assert digest_matches("sha256:" + sha(TARBALL), sha(TARBALL))  # if a later engine fixes it
    assert not digest_matches(dagger_digest(ERROR_BODY), sha(TARBALL))
    assert not digest_matches("sha256:" + sha(ERROR_BODY), sha(TARBALL))


def test_pinned_sum_is_used_when_none_is_given() -> None:
    assert runner_download(RunnerSpec()).sha256 == PINS.runner_sha256["x64"]  # the pinned version's x64 sum
    assert runner_download(mirror_spec(runner_sha256="a" * 64)).sha256 == "a" * 64
    assert runner_download(mirror_spec(runner_sha256=None)).sha256 is None  # 2.399.1 is not


def test_sources_are_named_by_url_or_by_flag() -> None:
    spec = mirror_spec()
    assert source(runner_download(spec), local=False) == spec.runner_url
    assert source(runner_download(spec), local=True) == "the local file given as --runner-archive"
    assert source(hooks_novolume_download(spec), local=True) == "the local file given as --hooks-novolume-archive"


def test_error_page_message_has_both_sums_size_and_hint() -> None:
    spec = mirror_spec()
    asset = runner_download(spec)
    message = mismatch_message(asset, spec.runner_url, sha(TARBALL), sha(ERROR_BODY), len(ERROR_BODY))
    assert message.startswith(f"{spec.runner_asset} from {spec.runner_url}: ")
    assert f"expected SHA-256 {sha(TARBALL)}" in message
    assert f"found {sha(ERROR_BODY)}" in message
    assert "(9 bytes)" in message
    assert "error page" in message
    assert "Nothing was unpacked" in message
    assert "--runner-checksum amd64=<SHA-256>" in message


def test_large_wrong_body_has_no_error_page_hint() -> None:
    asset = runner_download(mirror_spec())
    body = TARBALL + b"x"
    message = mismatch_message(asset, asset.url, sha(TARBALL), sha(body), len(body))
    assert f"({len(body)} bytes)" in message
    assert "error page" not in message


def test_download_error_message_names_the_url_and_the_way_around() -> None:
    spec = mirror_spec()
    asset = hooks_download(spec)
    message = download_error_message(asset, asset.url, "invalid response status 404 Not Found")
    assert message.startswith(f"actions-runner-hooks-k8s-0.7.9.zip: could not read {spec.hooks_url}: ")
    assert "404" in message
    assert "--hooks-archive" in message
    assert "--novolume-hooks=false" not in message


def test_an_unreachable_download_host_is_said_so_not_a_missing_version() -> None:
    spec = mirror_spec()
    asset = hooks_novolume_download(spec)
    refused = f'Get "{asset.url}": dial tcp 127.0.0.1:9: connect: connection refused'
    message = download_error_message(asset, asset.url, refused)
    assert message.startswith(f"actions-runner-hooks-k8s-0.9.2.zip: could not read {spec.hooks_novolume_url}: ")
    assert "Check --hooks-base-url, and that the engine can reach it (DNS, proxy, firewall)" in message
    assert message.endswith("or pass --hooks-novolume-archive")
    assert "check the version exists" not in message
    assert "--novolume-hooks=false" not in message


def test_missing_novolume_zip_says_which_version_and_how_to_drop_it() -> None:
    spec = mirror_spec()
    asset = hooks_novolume_download(spec)
    message = download_error_message(asset, asset.url, "invalid response status 404 Not Found")
    assert message.startswith(f"actions-runner-hooks-k8s-0.9.2.zip: could not read {spec.hooks_novolume_url}: ")
    assert "--hooks-novolume-archive" in message
    assert "check --hooks-novolume-version" in message
    assert message.endswith("or leave k8s-novolume/ out with --novolume-hooks=false")
