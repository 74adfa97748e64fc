"""Where each asset's SHA-256 comes from, and the parsers behind it."""

from __future__ import annotations

import json

import pytest

from pipelines.checksums import (
    PINNED_HOOKS_SHA256,
    checksum_needs,
    parse_release_assets,
    parse_release_notes,
    pinned_runner_sha256,
    release_api_url,
    select_checksum,
)
from pipelines.errors import ChecksumError
from pipelines.spec import RunnerSpec

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
    assert select_checksum(asset="x", flag="--runner-checksum amd64=<SHA-256>", explicit=A, pinned=B, published=C) == A


def test_pinned_wins_over_published() -> None:
    assert select_checksum(asset="x", flag="--runner-checksum amd64=<SHA-256>", pinned=B, published=C) == B


def test_published_is_the_last_resort() -> None:
    assert select_checksum(asset="x", flag="--runner-checksum amd64=<SHA-256>", published="sha256:" + C.upper()) == C


def test_nothing_known_refuses_and_says_what_to_pass() -> None:
    with pytest.raises(ChecksumError) as e:
        select_checksum(asset="actions-runner-hooks-k8s-0.8.1.zip", flag="--hooks-checksum <SHA-256>")
    message = str(e.value)
    assert message.startswith("checksum: actions-runner-hooks-k8s-0.8.1.zip: expected a known SHA-256")
    assert "found none" in message
    assert "--hooks-checksum <SHA-256>" in message
    assert "--allow-unverified" in message


def test_nothing_known_is_allowed_only_on_opt_out() -> None:
    assert select_checksum(asset="x", flag="--hooks-checksum <SHA-256>", allow_unverified=True) is None


def test_a_malformed_explicit_sum_is_refused() -> None:
    with pytest.raises(ValueError, match='runner_checksum "nope"'):
        select_checksum(asset="x", flag="--runner-checksum amd64=<SHA-256>", explicit="nope")


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


# --- checksum_needs: what resolve_checksums asks, and what it chooses ---------------
# resolve_checksums asks each need's release_api once (at most once per URL) and
# hands the answer to need.choose; a release it cannot read answers {}.
def choose_all(spec: RunnerSpec, published: dict[str, dict[str, str]]) -> dict[str, str | None]:
    """What resolve_checksums fills in, given each releases API's answer."""
    return {
        need.field: need.choose(published.get(need.release_api or "", {}), allow_unverified=spec.allow_unverified)
        for need in checksum_needs(spec)
    }


def test_pins_first_then_one_release_api_for_both_hooks_zips() -> None:
    spec = RunnerSpec(arch="arm64")
    assert [need.release_api for need in checksum_needs(spec)] == [None, HOOKS_API, HOOKS_API]  # runner pinned
    answer = {"actions-runner-hooks-k8s-0.8.1.zip": A, "actions-runner-hooks-k8s-novolume-0.8.1.zip": B}
    assert choose_all(spec, {HOOKS_API: answer}) == {
        "runner_sha256": ARM64,
        "hooks_sha256": A,
        "hooks_novolume_sha256": B,
    }


def test_nothing_is_asked_when_everything_is_given() -> None:
    spec = RunnerSpec(runner_version="2.336.0", runner_sha256=A, hooks_sha256=B, hooks_novolume_sha256=C)
    assert [need.release_api for need in checksum_needs(spec)] == [None, None, None]
    assert choose_all(spec, {}) == {"runner_sha256": A, "hooks_sha256": B, "hooks_novolume_sha256": C}


def test_without_novolume_no_novolume_sum_is_needed() -> None:
    spec = RunnerSpec(hooks_sha256=B, novolume_hooks=False)
    assert [need.field for need in checksum_needs(spec)] == ["runner_sha256", "hooks_sha256"]
    assert [need.release_api for need in checksum_needs(spec)] == [None, None]


def test_an_unreadable_release_refuses_naming_the_flag() -> None:
    # fetch_release_digests answers {} when the API cannot be read
    with pytest.raises(ChecksumError, match=r"actions-runner-hooks-k8s-0.8.1.zip.*--hooks-checksum <SHA-256>"):
        choose_all(RunnerSpec(), {HOOKS_API: {}})


def test_a_mirror_is_never_asked_and_an_unknown_sum_is_refused() -> None:
    spec = RunnerSpec(
        runner_version="2.336.0",
        runner_base_url="http://127.0.0.1:1/runner",
        hooks_base_url="http://127.0.0.1:1/hooks",
    )
    assert [need.release_api for need in checksum_needs(spec)] == [None, None, None]
    with pytest.raises(ChecksumError, match=r"linux-x64-2.336.0.tar.gz.*--runner-checksum amd64=<SHA-256>"):
        choose_all(spec, {})


def test_opt_out_asks_nothing_and_leaves_gaps() -> None:
    spec = RunnerSpec(allow_unverified=True)
    assert [need.release_api for need in checksum_needs(spec)] == [None, None, None]
    assert choose_all(spec, {}) == {"runner_sha256": X64, "hooks_sha256": None, "hooks_novolume_sha256": None}
