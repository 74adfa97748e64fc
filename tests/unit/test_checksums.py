"""Where each asset's SHA-256 comes from, and the parsers behind it."""

from __future__ import annotations

import json

import pytest

from pipelines.checksums import (
    PINNED_HOOKS_SHA256,
    parse_release_assets,
    parse_release_notes,
    pinned_runner_sha256,
    release_api_url,
    resolve_checksums,
    select_checksum,
)
from pipelines.errors import ChecksumError
from pipelines.spec import RunnerSpec
from tests.unit.fakes import FakeClient

X64 = "70920811a4f8ad4328818682bca5c6469c1c942fab52448868071d0063816613"
ARM64 = "9b1dc70626422526e3c94767cf024896beb15da5342a3f4819bf2feac13e0393"
A, B, C = "a" * 64, "b" * 64, "c" * 64
HOOKS_API = "https://api.github.com/repos/actions/runner-container-hooks/releases/tags/v0.8.1"


def test_pinned_runner_sums_for_the_default_version() -> None:
    assert pinned_runner_sha256("2.337.0", "x64") == X64
    assert pinned_runner_sha256("2.337.0", "arm64") == ARM64
    assert pinned_runner_sha256("2.336.0", "x64") is None


def test_no_hooks_sum_is_invented() -> None:
    assert dict(PINNED_HOOKS_SHA256) == {}


# --- select_checksum ---------------------------------------------------------------
def test_explicit_wins_over_pinned_and_published() -> None:
    assert select_checksum(asset="x", flag="--runner-sha256", explicit=A, pinned=B, published=C) == A


def test_pinned_wins_over_published() -> None:
    assert select_checksum(asset="x", flag="--runner-sha256", pinned=B, published=C) == B


def test_published_is_the_last_resort() -> None:
    assert select_checksum(asset="x", flag="--runner-sha256", published="sha256:" + C.upper()) == C


def test_nothing_known_refuses_and_says_what_to_pass() -> None:
    with pytest.raises(ChecksumError) as e:
        select_checksum(asset="actions-runner-hooks-k8s-0.8.1.zip", flag="--hooks-sha256")
    message = str(e.value)
    assert message.startswith("checksum: actions-runner-hooks-k8s-0.8.1.zip: expected a known SHA-256")
    assert "found none" in message
    assert "--hooks-sha256" in message
    assert "--allow-unverified" in message


def test_nothing_known_is_allowed_only_on_opt_out() -> None:
    assert select_checksum(asset="x", flag="--hooks-sha256", allow_unverified=True) is None


def test_a_malformed_explicit_sum_is_refused() -> None:
    with pytest.raises(ValueError, match='runner_sha256 "nope"'):
        select_checksum(asset="x", flag="--runner-sha256", explicit="nope")


# --- release notes and API ---------------------------------------------------------
NOTES = f"""
## SHA-256 Checksums

The SHA-256 checksums for the packages included in this build are shown below:

- actions-runner-linux-x64-2.337.0.tar.gz <!-- BEGIN SHA linux-x64 -->{X64}<!-- END SHA linux-x64 -->
- actions-runner-linux-arm64-2.337.0.tar.gz <!--  BEGIN SHA linux-arm64  -->
  {ARM64.upper()}
  <!-- END SHA linux-arm64 -->
- broken <!-- BEGIN SHA osx-x64 -->{A}<!-- END SHA osx-arm64 -->
- short <!-- BEGIN SHA win-x64 -->abc<!-- END SHA win-x64 -->
"""


def test_release_note_markers_tolerate_whitespace_and_case() -> None:
    assert parse_release_notes(NOTES) == {"linux-x64": X64, "linux-arm64": ARM64}


def test_release_notes_without_markers() -> None:
    assert parse_release_notes("") == {}
    assert parse_release_notes("no sums here") == {}


def test_api_digests_and_note_markers() -> None:
    release = {
        "tag_name": "v2.337.0",
        "body": NOTES,
        "assets": [
            {"name": "actions-runner-linux-x64-2.337.0.tar.gz", "digest": "sha256:" + C},
            {"name": "actions-runner-osx-x64-2.337.0.tar.gz", "digest": None},
            {"name": "weird", "digest": "md5:abc"},
        ],
    }
    sums = parse_release_assets(json.dumps(release))
    # the API digest wins over the note for the same asset
    assert sums["actions-runner-linux-x64-2.337.0.tar.gz"] == C
    assert sums["actions-runner-linux-arm64-2.337.0.tar.gz"] == ARM64
    assert "weird" not in sums
    assert "actions-runner-osx-x64-2.337.0.tar.gz" not in sums


@pytest.mark.parametrize(("text", "found"), [("not json", "invalid JSON"), ("[]", "found list")])
def test_bad_release_json(text: str, found: str) -> None:
    with pytest.raises(ChecksumError, match=found):
        parse_release_assets(text)


@pytest.mark.parametrize(
    ("base", "version", "api"),
    [
        (
            "https://github.com/actions/runner/releases/download",
            "2.337.0",
            "https://api.github.com/repos/actions/runner/releases/tags/v2.337.0",
        ),
        ("https://github.com/actions/runner-container-hooks/releases/download/", "0.8.1", HOOKS_API),
        ("http://127.0.0.1:8080/runner", "2.337.0", None),
        ("https://mirror.example/actions/runner/releases/download", "2.337.0", None),
    ],
)
def test_release_api_url(base: str, version: str, api: str | None) -> None:
    assert release_api_url(base, version) == api


# --- resolve_checksums (fake client: no engine) -------------------------------------
def hooks_release(*assets: tuple[str, str]) -> bytes:
    return json.dumps(
        {"tag_name": "v0.8.1", "assets": [{"name": n, "digest": f"sha256:{d}"} for n, d in assets]}
    ).encode()


@pytest.mark.anyio
async def test_resolve_uses_pins_then_the_release_api_once() -> None:
    client = FakeClient(
        bodies={
            HOOKS_API: hooks_release(
                ("actions-runner-hooks-k8s-0.8.1.zip", A),
                ("actions-runner-hooks-k8s-novolume-0.8.1.zip", B),
            )
        }
    )
    spec = await resolve_checksums(client, RunnerSpec(arch="arm64"))  # type: ignore[arg-type]
    assert (spec.runner_sha256, spec.hooks_sha256, spec.hooks_novolume_sha256) == (ARM64, A, B)
    assert client.http_calls == [HOOKS_API]  # runner pinned: never asked; hooks: one call


@pytest.mark.anyio
async def test_resolve_asks_nothing_when_everything_is_given() -> None:
    client = FakeClient()
    spec = RunnerSpec(runner_version="2.336.0", runner_sha256=A, hooks_sha256=B, hooks_novolume_sha256=C)
    resolved = await resolve_checksums(client, spec)  # type: ignore[arg-type]
    assert (resolved.runner_sha256, resolved.hooks_sha256, resolved.hooks_novolume_sha256) == (A, B, C)
    assert client.http_calls == []


@pytest.mark.anyio
async def test_resolve_without_novolume_needs_no_novolume_sum() -> None:
    client = FakeClient()
    spec = RunnerSpec(hooks_sha256=B, novolume_hooks=False)
    resolved = await resolve_checksums(client, spec)  # type: ignore[arg-type]
    assert resolved.hooks_novolume_sha256 is None
    assert client.http_calls == []


@pytest.mark.anyio
async def test_resolve_refuses_when_the_api_is_unreachable() -> None:
    client = FakeClient()  # every URL answers 404
    with pytest.raises(ChecksumError, match=r"actions-runner-hooks-k8s-0.8.1.zip.*--hooks-sha256"):
        await resolve_checksums(client, RunnerSpec())  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_resolve_on_a_mirror_never_calls_github() -> None:
    client = FakeClient()
    spec = RunnerSpec(
        runner_version="2.336.0",
        runner_base_url="http://127.0.0.1:1/runner",
        hooks_base_url="http://127.0.0.1:1/hooks",
        hooks_sha256=B,
        hooks_novolume_sha256=C,
    )
    with pytest.raises(ChecksumError, match=r"actions-runner-linux-x64-2.336.0.tar.gz.*--runner-sha256"):
        await resolve_checksums(client, spec)  # type: ignore[arg-type]
    assert client.http_calls == []


@pytest.mark.anyio
async def test_resolve_with_opt_out_asks_nothing_and_leaves_gaps() -> None:
    client = FakeClient()
    resolved = await resolve_checksums(client, RunnerSpec(allow_unverified=True))  # type: ignore[arg-type]
    assert resolved.runner_sha256 == X64  # what is known is still used
    assert resolved.hooks_sha256 is None
    assert client.http_calls == []
