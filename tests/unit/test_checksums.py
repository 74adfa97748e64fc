"""Where each asset's SHA-256 comes from, and the parsers behind it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipelines.network.checksums import checksum_needs, pinned_hooks_sha256, pinned_runner_sha256, select_checksum
from pipelines.network.published import parse_release_assets, parse_release_notes, parse_sums_section, release_api_url
from pipelines.shared.errors import ChecksumError
from pipelines.shared.pins import PINS
from pipelines.shared.spec import RunnerSpec

X64 = "70920811a4f8ad4328818682bca5c6469c1c942fab52448868071d0063816613"
ARM64 = "9b1dc70626422526e3c94767cf024896beb15da5342a3f4819bf2feac13e0393"
A, B, C = "a" * 64, "b" * 64, "c" * 64


def hooks_api(version: str) -> str:
    """The releases API URL of a hooks release, written out as GitHub serves it."""
    return f"https://api.github.com/repos/actions/runner-container-hooks/releases/tags/v{version}"


def k8s_zip(version: str) -> str:
    return f"actions-runner-hooks-k8s-{version}.zip"


# The default build's two hooks releases, as pins.toml names them today.
HOOKS_API, NOVOLUME_API = hooks_api(PINS.hooks_version), hooks_api(PINS.hooks_novolume_version)
K8S, K8S_NOVOLUME = k8s_zip(PINS.hooks_version), k8s_zip(PINS.hooks_novolume_version)
# Fixture releases, named so: versions no pin holds.
FIXTURE_HOOKS, FIXTURE_NOVOLUME = "0.60.0", "0.80.0"
FIXTURE_K8S, FIXTURE_K8S_NOVOLUME = k8s_zip(FIXTURE_HOOKS), k8s_zip(FIXTURE_NOVOLUME)


def test_pinned_runner_sums_are_the_pins_files_for_its_version_only() -> None:
    pins = dataclasses.replace(PINS, runner_version="9.9.9", runner_sha256={"x64": A, "arm64": B})
    assert pinned_runner_sha256("9.9.9", "x64", pins) == A
    assert pinned_runner_sha256("9.9.9", "arm64", pins) == B
    assert pinned_runner_sha256("9.9.8", "x64", pins) is None  # another version passed as a flag is not pinned
    for arch, sha in PINS.runner_sha256.items():  # and the module's own pins are read from pins.toml
        assert pinned_runner_sha256(PINS.runner_version, arch) == sha


def test_an_empty_hooks_sum_is_none_not_invented() -> None:
    pins = dataclasses.replace(PINS, hooks_version=FIXTURE_HOOKS, hooks_sha256=None, hooks_novolume_sha256=None)
    assert pinned_hooks_sha256(FIXTURE_K8S, pins) is None
    assert pinned_hooks_sha256(K8S_NOVOLUME, pins) is None


def test_a_pinned_hooks_sum_counts_for_its_own_version_only() -> None:
    pins = dataclasses.replace(
        PINS,
        hooks_version=FIXTURE_HOOKS,
        hooks_sha256=A,
        hooks_novolume_version=FIXTURE_NOVOLUME,
        hooks_novolume_sha256=B,
    )
    assert pinned_hooks_sha256(FIXTURE_K8S, pins) == A
    assert pinned_hooks_sha256(FIXTURE_K8S_NOVOLUME, pins) == B
    assert pinned_hooks_sha256("actions-runner-hooks-k8s-0.60.1.zip", pins) is None


# --- select_checksum ---------------------------------------------------------------
def test_explicit_wins_over_pinned_and_published() -> None:
    assert select_checksum(asset="x", flag="--runner-checksum amd64=<SHA-256>", explicit=A, pinned=B, published=C) == A


def test_pinned_wins_over_published() -> None:
    assert select_checksum(asset="x", flag="--runner-checksum amd64=<SHA-256>", pinned=B, published=C) == B


def test_published_is_the_last_resort() -> None:
    assert select_checksum(asset="x", flag="--runner-checksum amd64=<SHA-256>", published="sha256:" + C.upper()) == C


def test_nothing_known_refuses_and_says_what_to_pass() -> None:
    with pytest.raises(ChecksumError) as e:
        select_checksum(asset="actions-runner-hooks-k8s-0.80.0.zip", flag="--hooks-checksum <SHA-256>")
    message = str(e.value)
    assert message.startswith("checksum: actions-runner-hooks-k8s-0.80.0.zip: expected a known SHA-256")
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
        (
            "https://github.com/actions/runner-container-hooks/releases/download/",
            FIXTURE_NOVOLUME,
            hooks_api(FIXTURE_NOVOLUME),
        ),
        ("http://127.0.0.1:8080/runner", "2.337.0", None),
        ("https://mirror.example/actions/runner/releases/download", "2.337.0", None),
    ],
)
def test_release_api_url(base: str, version: str, api: str | None) -> None:
    assert release_api_url(base, version) == api


# The hooks' notes: a plain-text section, no markers (runner-container-hooks releaseNotes.md).
COMMIT = "0123456789abcdef" * 4  # 64 hex, but a commit id in prose
HOOKS_NOTES = f"""## Features\r
\r
- k8s: remove dependency on the runner's volume, see {COMMIT} [#244]\r
- {FIXTURE_K8S} {C}\r
\r
## SHA-256 Checksums\r
\r
The SHA-256 checksums for the packages included in this build are shown below:\r
\r
- actions-runner-hooks-docker-0.80.0.zip {B}\r
- {FIXTURE_K8S_NOVOLUME} {A.upper()}\r
- actions-runner-hooks-k8s-0.80.0.zip.sig {C}\r
- actions-runner-hooks-k8s-0.80.0.zip {A[:63]}\r
\r
## Misc\r
\r
- {FIXTURE_K8S} {B}\r
"""


def test_hooks_notes_sums_come_from_their_section_only() -> None:
    # not the line before the section, not the one after it, not the commit id,
    # not a short sum, not another file's sum; CRLF line ends as the API sends them
    assert parse_sums_section(HOOKS_NOTES) == {
        "actions-runner-hooks-docker-0.80.0.zip": B,
        FIXTURE_K8S_NOVOLUME: A,
    }


@pytest.mark.parametrize(
    "body",
    ["", "no sums here", f"## SHA-256 Checksums\n\n{FIXTURE_K8S_NOVOLUME}: {A}\n", f"- {FIXTURE_K8S_NOVOLUME} {A}"],
)
def test_hooks_notes_without_a_sums_section_or_lines_give_nothing(body: str) -> None:
    assert parse_sums_section(body) == {}


def test_runner_notes_sums_section_is_not_misread() -> None:
    """The runner's section has markers, not "- name sum" lines: only the markers count."""
    assert parse_sums_section(NOTES) == {}


def test_hooks_release_sums_from_notes_when_the_api_has_no_digest() -> None:
    release = {
        "tag_name": "v0.80.0",
        "body": HOOKS_NOTES,
        "assets": [{"name": FIXTURE_K8S_NOVOLUME, "digest": None}, {"name": "actions-runner-hooks-docker-0.80.0.zip"}],
    }
    sums = parse_release_assets(json.dumps(release))
    assert sums[FIXTURE_K8S_NOVOLUME] == A
    assert FIXTURE_K8S not in sums
    release["assets"] = [{"name": FIXTURE_K8S_NOVOLUME, "digest": "sha256:" + C}]
    assert parse_release_assets(json.dumps(release))[FIXTURE_K8S_NOVOLUME] == C  # the API digest wins


# --- checksum_needs: what resolve_checksums asks, and what it chooses ---------------
# resolve_checksums asks each need's release_api once (at most once per URL) and
# hands the answer to need.choose; a release it cannot read answers {}.
def choose_all(spec: RunnerSpec, published: dict[str, dict[str, str]]) -> dict[str, str | None]:
    """What resolve_checksums fills in, given each releases API's answer."""
    return {
        need.field: need.choose(published.get(need.release_api or "", {}), allow_unverified=spec.allow_unverified)
        for need in checksum_needs(spec)
    }


def test_pins_first_then_each_hooks_release_is_asked_for_its_own_zip() -> None:
    # runner pinned; k8s/ from one unpinned hooks release, k8s-novolume/ from another
    spec = RunnerSpec(arch="arm64", hooks_version=FIXTURE_HOOKS, hooks_novolume_version=FIXTURE_NOVOLUME)
    asked = [None, hooks_api(FIXTURE_HOOKS), hooks_api(FIXTURE_NOVOLUME)]
    assert [need.release_api for need in checksum_needs(spec)] == asked
    assert [need.asset for need in checksum_needs(spec)][1:] == [FIXTURE_K8S, FIXTURE_K8S_NOVOLUME]
    answers = {
        hooks_api(FIXTURE_HOOKS): {FIXTURE_K8S: A, FIXTURE_K8S_NOVOLUME: C},
        hooks_api(FIXTURE_NOVOLUME): {FIXTURE_K8S_NOVOLUME: B, FIXTURE_K8S: C},
    }
    assert choose_all(spec, answers) == {
        "runner_sha256": PINS.runner_sha256["arm64"],
        "hooks_sha256": A,
        "hooks_novolume_sha256": B,
    }


def test_the_default_build_asks_only_for_what_pins_toml_leaves_empty() -> None:
    needs = checksum_needs(RunnerSpec())
    assert [need.asset for need in needs][1:] == [K8S, K8S_NOVOLUME]
    asked = [need.release_api for need in needs]
    assert asked == [
        None,
        None if PINS.hooks_sha256 else HOOKS_API,
        None if PINS.hooks_novolume_sha256 or K8S_NOVOLUME == K8S else NOVOLUME_API,
    ]


def test_one_version_for_both_folders_needs_one_sum() -> None:
    """Same release in k8s/ and k8s-novolume/ is the same zip: the k8s/ sum covers both."""
    spec = RunnerSpec(hooks_version=FIXTURE_NOVOLUME, hooks_novolume_version=FIXTURE_NOVOLUME, hooks_sha256=A)
    needs = checksum_needs(spec)
    assert [need.asset for need in needs][1:] == [FIXTURE_K8S_NOVOLUME, FIXTURE_K8S_NOVOLUME]
    assert [need.release_api for need in needs] == [None, None, None]
    assert choose_all(spec, {})["hooks_novolume_sha256"] == A
    # a sum passed for k8s/ does not vouch for another version's zip
    other = RunnerSpec(hooks_version=FIXTURE_HOOKS, hooks_novolume_version=FIXTURE_NOVOLUME, hooks_sha256=A)
    assert checksum_needs(other)[2].explicit is None


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
    spec = RunnerSpec(hooks_version=FIXTURE_HOOKS, hooks_novolume_version=FIXTURE_NOVOLUME)
    with pytest.raises(ChecksumError, match=rf"{FIXTURE_K8S}.*--hooks-checksum <SHA-256>"):
        choose_all(spec, {})
    with pytest.raises(ChecksumError, match=rf"{FIXTURE_K8S_NOVOLUME}.*--hooks-novolume-checksum <SHA-256>"):
        choose_all(dataclasses.replace(spec, hooks_sha256=A), {})


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
    spec = RunnerSpec(allow_unverified=True, hooks_version=FIXTURE_HOOKS, hooks_novolume_version=FIXTURE_NOVOLUME)
    assert [need.release_api for need in checksum_needs(spec)] == [None, None, None]
    assert choose_all(spec, {}) == {
        "runner_sha256": PINS.runner_sha256["x64"],
        "hooks_sha256": None,
        "hooks_novolume_sha256": None,
    }
