"""updates and bump, the pure parts: release lists, the two sums, holds, Docker's index, the deadline, the title."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from pipelines.current.releases import deb_versions, parse_releases
from pipelines.current.updates import (
    base_row,
    bumped,
    check_deadline,
    docker_rows,
    holds,
    hooks_row,
    render,
    runner_row,
    title,
    tool_row,
    wants_sums,
)
from pipelines.network.published import parse_checksums_file
from pipelines.shared.errors import InvalidSpecError, StalePinError, UpstreamError
from pipelines.shared.pins import PINS, PINS_FILE, parse
from tests.engine.fake_upstream import checksums_file, hooks_release, packages_index, runner_release, tool_release

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
TAG = "registry.example/dotnet/runtime-deps:8.0-noble"  # a base no pin holds
URL = "https://api.example/repos/actions/runner/releases?per_page=100"
A, B = "a" * 64, "b" * 64
# The runner rows are read against a fixture pin (9.0.0) and fixture releases
# after it: versions no pin holds, so a bump of pins.toml leaves them as they are.
PINNED = {"x64": "c" * 64, "arm64": "d" * 64}
FIXTURE_PINS = dataclasses.replace(PINS, runner_version="9.0.0", runner_sha256=PINNED)


def releases(*items: dict) -> list:
    return parse_releases(list(items), url=URL)


def test_the_newest_stable_release_is_proposed_with_both_sums_and_the_deadline() -> None:
    found = releases(
        runner_release("9.3.0", {"x64": A, "arm64": B}, NOW, prerelease=True),
        runner_release("9.2.0", {"x64": A, "arm64": B}, NOW - datetime.timedelta(days=10)),
        runner_release("9.1.0", {"x64": B, "arm64": A}, NOW - datetime.timedelta(days=20)),
        runner_release(FIXTURE_PINS.runner_version, PINNED, NOW - datetime.timedelta(days=90)),
    )
    row = runner_row(FIXTURE_PINS, found, source=URL, now=NOW)
    assert (row.newest, row.status) == ("9.2.0", "update")
    assert row.changes == {("runner", "version"): "9.2.0", ("runner", "sha256_x64"): A, ("runner", "sha256_arm64"): B}
    # The deadline counts from the first newer release (9.1.0), not the newest.
    assert row.deadline == (NOW + datetime.timedelta(days=10)).date()
    assert row.days_left == 10


def test_disagreeing_or_missing_sums_are_not_proposed() -> None:
    disagree = releases(runner_release("9.2.0", {"x64": A, "arm64": B}, NOW, api_sums={"x64": B}))
    row = runner_row(FIXTURE_PINS, disagree, source=URL, now=NOW)
    assert row.changes == {}
    assert row.status.startswith("NOT proposed: actions-runner-linux-x64-9.2.0.tar.gz: API digest")
    missing = runner_release("9.2.0", {"x64": A, "arm64": B}, NOW)
    missing["assets"][1]["digest"] = None  # type: ignore[index]
    row = runner_row(FIXTURE_PINS, releases(missing), source=URL, now=NOW)
    assert "actions-runner-linux-arm64-9.2.0.tar.gz: no SHA-256 in the API digest" in row.status
    assert row.changes == {}


def test_current_pins_have_no_deadline_and_no_changes() -> None:
    found = releases(runner_release(FIXTURE_PINS.runner_version, PINNED, NOW))
    row = runner_row(FIXTURE_PINS, found, source=URL, now=NOW)
    assert (row.status, row.changes, row.deadline) == ("current", {}, None)
    check_deadline([row], 30)  # nothing newer: no deadline to fail on


def test_an_empty_sum_is_filled_from_the_pinned_release_and_a_hold_keeps_the_version() -> None:
    found = releases(hooks_release("0.6.0", A, NOW), hooks_release("0.6.1", B, NOW), hooks_release("0.9.1", A, NOW))
    same = hooks_row("hooks (k8s/)", "hooks", "0.6.1", None, "0.6", found, URL)
    assert same.status == "fill the missing SHA-256"
    assert same.changes == {("hooks", "sha256"): B}
    held = hooks_row("hooks (k8s/)", "hooks", "0.6.0", A, "0.6", found, URL)
    assert held.status == "update (held at 0.6.x; newest 0.9.1)"
    assert held.changes == {("hooks", "version"): "0.6.1", ("hooks", "sha256"): B}


def test_holds_come_from_the_file_and_flags_override_them() -> None:
    assert holds(PINS, None) == {"hooks": PINS.hooks_hold, "hooks_novolume": PINS.hooks_novolume_hold}
    assert holds(PINS, ["hooks=", "hooks_novolume=0.8"]) == {"hooks": None, "hooks_novolume": "0.8"}
    for bad in ("runner=9.0", "hooks", "hooks=0.x"):
        with pytest.raises(InvalidSpecError, match=r"hold .*expected PIN=PREFIX"):
            holds(PINS, [bad])


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"message": "Not Found"}, "expected a JSON list of release objects, found dict"),
        ([{"tag_name": "latest"}], "release tag_name at https://api.example/"),
        ([{"tag_name": "v1.2.3", "assets": [{"name": "x", "digest": "sha256:12"}]}], "found 2 characters"),
        ([{"tag_name": "v1.2.3", "published_at": "yesterday"}], "published_at at https://api.example/"),
    ],
)
def test_malformed_answers_are_refused_naming_the_url(answer: object, expected: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        parse_releases(answer, url=URL)
    assert expected in str(caught.value)
    assert str(caught.value).startswith("upstream: ")


def test_a_prereleases_odd_tag_is_skipped_not_refused() -> None:
    assert releases({"tag_name": "v3.0.0-beta.1", "prerelease": True}) == []


def test_docker_versions_are_the_newest_every_arch_has_without_release_candidates() -> None:
    index = packages_index({"docker-ce-cli": ["27.5.1", "27.6.2", "30.0.0~rc.1"], "docker-buildx-plugin": ["0.40.0"]})
    assert deb_versions(index, "docker-ce-cli") == {"27.5.1", "27.6.2"}
    arm = packages_index({"docker-ce-cli": ["27.5.1"], "docker-buildx-plugin": ["0.40.0"]})
    pins = dataclasses.replace(PINS, docker_version="27.5.1", buildx_version="0.20.1")
    cli, buildx = docker_rows(pins, {"amd64": index, "arm64": arm}, "apt")
    assert (cli.newest, cli.status, cli.changes) == ("27.5.1", "current", {})
    assert (buildx.newest, buildx.changes) == ("0.40.0", {("docker", "buildx"): "0.40.0"})


def test_title_table_and_bump_from_rows() -> None:
    found = releases(runner_release("9.2.0", {"x64": A, "arm64": B}, NOW - datetime.timedelta(days=28)))
    base = base_row(TAG, {"amd64": f"sha256:{A}", "arm64": f"sha256:{A}"})
    rows = [runner_row(FIXTURE_PINS, found, source=URL, now=NOW), base]
    assert title(rows) == "Update runner to 9.2.0; pin the base image's digest"
    table = render(rows)
    assert f"| runner | {FIXTURE_PINS.runner_version} | 9.2.0 | update; GitHub stops sending jobs to" in table
    assert "(2 days left)" in table
    assert f"| base image | {TAG} | sha256:{A} | fill the missing digest | registry.example |" in table
    assert f"| actions-runner-linux-x64-9.2.0.tar.gz | {A} | {A} (release notes) | yes |" in table
    text = bumped(PINS_FILE.read_text(), rows)
    assert (parse(text).runner_version, parse(text).base_image) == ("9.2.0", f"{TAG}@sha256:{A}")
    unmoved = base_row(f"{TAG}@sha256:{A}", {"amd64": f"sha256:{A}", "arm64": f"sha256:{A}"})
    assert bumped(text, [unmoved]) == text
    with pytest.raises(StalePinError, match=r"\(2 days left, fewer than --fail-within 7\)"):
        check_deadline(rows, 7)
    check_deadline(rows, 2)
    assert title([unmoved]) == "Nothing to update"


def tool_assets(version: str, sums: dict[str, str]) -> list[dict]:
    """grype's linux assets with their API digests (arch -> sum) and its checksums file, as the API lists them."""
    names = {arch: f"grype_{version}_linux_{arch}.tar.gz" for arch in sums}
    assets = [{"name": names[a], "digest": f"sha256:{s}", "browser_download_url": f"https://dl/{names[a]}"}
              for a, s in sums.items()]  # fmt: skip
    return [*assets, {"name": f"grype_{version}_checksums.txt", "browser_download_url": "https://dl/checksums"}]


def test_a_tool_moves_to_its_newest_stable_release_with_the_sums_its_checksums_file_confirms() -> None:
    both = {"amd64": A, "arm64": B}
    found = releases(
        tool_release("9.5.0", NOW, prerelease=True),
        tool_release("9.4.1", NOW - datetime.timedelta(days=3), assets=tool_assets("9.4.1", both)),
        tool_release("9.4.0", NOW - datetime.timedelta(days=9)),
    )
    listed = parse_checksums_file(checksums_file({"grype_9.4.1_linux_amd64.tar.gz": A,
                                                  "grype_9.4.1_linux_arm64.tar.gz": B}))  # fmt: skip
    empty = {"amd64": None, "arm64": None}
    row = tool_row("grype", "9.4.0", empty, found, URL, listed)
    assert (row.newest, row.status) == ("9.4.1", "update")
    sums = {("tools", "grype_sha256_amd64"): A, ("tools", "grype_sha256_arm64"): B}
    assert row.changes == {("tools", "grype"): "9.4.1", **sums}
    assert f"| grype_9.4.1_linux_arm64.tar.gz | {B} | {B} (grype_9.4.1_checksums.txt) | yes |" in render([row])
    pins = parse(bumped(PINS_FILE.read_text(), [row]))
    assert (pins.grype_version, dict(pins.grype_sha256)) == ("9.4.1", both)
    assert found[1].asset_urls["grype_9.4.1_checksums.txt"] == "https://dl/checksums"

    # The pinned release missing its sums: filled, the version kept; with both, current, and nothing to read.
    fill = tool_row("grype", "9.4.1", empty, found, URL, listed)
    assert (fill.status, fill.changes) == ("fill the missing SHA-256", sums)
    assert title([fill]) == "Pin the SHA-256 of grype"
    assert not wants_sums("9.4.1", [A, B], found[1])
    assert tool_row("grype", "9.4.1", both, found, URL, {}).status == "current"
    assert tool_row("syft", "1.0.0", empty, [], URL, {}).status == "no stable release"


def test_a_tool_release_whose_checksums_file_disagrees_or_lacks_an_asset_is_not_proposed() -> None:
    found = releases(tool_release("9.4.1", NOW, assets=tool_assets("9.4.1", {"amd64": A, "arm64": B})))
    empty = {"amd64": None, "arm64": None}
    other = {"grype_9.4.1_linux_amd64.tar.gz": "c" * 64}  # amd64 differs, arm64 is not listed
    row = tool_row("grype", "9.4.0", empty, found, URL, other)
    assert row.changes == {}
    assert row.status.startswith("NOT proposed: grype_9.4.1_linux_amd64.tar.gz: API digest "), row.status
    assert f"and grype_9.4.1_checksums.txt {'c' * 64} disagree" in row.status
    assert "grype_9.4.1_linux_arm64.tar.gz: no SHA-256 in the grype_9.4.1_checksums.txt" in row.status


def test_a_checksums_file_is_read_as_sha256sum_writes_it() -> None:
    text = f"{A.upper()}  grype_1.0.0_linux_amd64.tar.gz\n{B} *grype_1.0.0_linux_arm64.tar.gz\nnot a sum  x\n\n"
    assert parse_checksums_file(text) == {"grype_1.0.0_linux_amd64.tar.gz": A, "grype_1.0.0_linux_arm64.tar.gz": B}


def test_the_base_follows_its_tag_to_the_index_every_arch_resolves_in() -> None:
    old, new = f"sha256:{A}", f"sha256:{B}"
    moved = base_row(f"{TAG}@{old}", {"amd64": new, "arm64": new})
    assert (moved.status, moved.newest, moved.changes) == ("update", new, {("base", "image"): f"{TAG}@{new}"})
    assert title([moved]) == f"Update base image to sha256:{B[:12]}"
    assert parse(bumped(PINS_FILE.read_text(), [moved])).base_image == f"{TAG}@{new}"

    missing = base_row(f"{TAG}@{old}", {"amd64": new, "arm64": None})
    assert missing.changes == {}
    assert missing.status == (
        f"NOT proposed: {TAG}: its index has no image for linux/arm64; "
        "every arch (amd64, arm64) must resolve in one index"
    )
    split = base_row(TAG, {"amd64": old, "arm64": new})
    assert split.changes == {}
    assert split.status.startswith(f"NOT proposed: {TAG}: the arches resolve to ['{old}', '{new}']"), split.status

    by_digest = base_row(f"registry.example/dotnet/runtime-deps@{old}", {})
    assert (by_digest.changes, by_digest.status) == ({}, "pinned by digest alone: no tag to follow; bump leaves it")
