"""pins.toml: the one copy of every pinned default, its checks, and the byte-exact rewrite `bump` uses."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from pipelines.shared.defaults import RUNNER_ARCH
from pipelines.shared.errors import InvalidSpecError
from pipelines.shared.pins import KEYS, PINS, PINS_FILE, load, parse, rewrite
from pipelines.shared.reference import parse_reference
from pipelines.shared.spec import RunnerSpec
from pipelines.shared.validators import valid_sha256, valid_version
from tests.checkout import ROOT, source_files

TEXT = PINS_FILE.read_text(encoding="utf-8")


def test_every_pin_is_well_formed() -> None:
    for version in (PINS.runner_version, PINS.hooks_version, PINS.hooks_novolume_version):
        assert valid_version("pin", version) == version
    tools = (PINS.syft_version, PINS.grype_version, PINS.actionlint_version, PINS.crane_version)
    for version in (PINS.docker_version, PINS.buildx_version, *tools):
        assert valid_version("pin", version) == version
    for sha in (*PINS.runner_sha256.values(), PINS.hooks_sha256, PINS.hooks_novolume_sha256, *tool_sums()):
        assert valid_sha256("pin", sha) == sha  # lowercase 64 hex, or None (empty)
    assert str(parse_reference(PINS.base_image)) == PINS.base_image
    for hold, version in (
        (PINS.hooks_hold, PINS.hooks_version),
        (PINS.hooks_novolume_hold, PINS.hooks_novolume_version),
    ):
        assert hold is None or version.startswith(f"{hold}."), (hold, version)


def test_the_runner_pin_has_a_sum_for_every_arch() -> None:
    assert set(PINS.runner_sha256) == set(RUNNER_ARCH.values())
    assert all(PINS.runner_sha256.values()), PINS.runner_sha256


def test_the_default_build_is_the_pinned_one() -> None:
    spec = RunnerSpec()
    assert (spec.runner_version, spec.hooks_version, spec.hooks_novolume_version) == (
        PINS.runner_version,
        PINS.hooks_version,
        PINS.hooks_novolume_version,
    )
    assert (spec.docker_version, spec.buildx_version, spec.base_image) == (
        PINS.docker_version,
        PINS.buildx_version,
        PINS.base_image,
    )


# Files that may name a pinned value besides pins.toml: the prose, where
# versions are upstream's facts or examples (the README's table of defaults is
# checked below). The tests are held to it too: a test that names today's pin
# fails on the next bump, so tests read PINS or use fixture versions no pin holds.
MAY_NAME_PINS = ("pipelines/pins.toml", "README.md", "docs/")


def tree_files() -> list[Path]:
    """The tree's source files but the prose."""
    return [path for path in source_files() if not path.relative_to(ROOT).as_posix().startswith(MAY_NAME_PINS)]


def pinned_values() -> list[str]:
    values = [PINS.runner_version, PINS.docker_version, PINS.buildx_version, PINS.base_image]
    values += [PINS.syft_version, PINS.grype_version, PINS.actionlint_version, PINS.crane_version]
    values += [PINS.hooks_version, PINS.hooks_novolume_version]
    return values + [
        sha
        for sha in (*PINS.runner_sha256.values(), PINS.hooks_sha256, PINS.hooks_novolume_sha256, *tool_sums())
        if sha
    ]


def tool_sums() -> list[str | None]:
    return [*PINS.grype_sha256.values(), *PINS.syft_sha256.values()]


@pytest.mark.parametrize("value", pinned_values())
def test_no_second_copy_of_a_pinned_value_in_code_scripts_or_workflows(value: str) -> None:
    pattern = re.compile(rf"(?<![0-9A-Za-z.]){re.escape(value)}(?![0-9A-Za-z])")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in tree_files()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == [], f"{value} is pinned in pipelines/pins.toml; read it from there"


def test_the_readme_points_at_the_file_for_every_pinned_default() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    flags = ("--runner-version", "--hooks-version", "--hooks-novolume-version", "--base-image", "--docker-version")
    for flag in flags:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{flag}`"))
        default = row.split("|")[2]
        assert "pipelines/pins.toml" in default, row
        for value in pinned_values():
            assert value not in default, row


# --- rewrite ---------------------------------------------------------------------
def later(version: str) -> str:
    """A version after a pinned one, whatever pins.toml holds today."""
    major, minor, _ = version.split(".")
    return f"{major}.{int(minor) + 1}.0"


def test_rewrite_changes_only_the_named_values_and_is_idempotent() -> None:
    runner, docker = later(PINS.runner_version), later(PINS.docker_version)
    fixture_sum = hashlib.sha256(b"a fixture zip").hexdigest()  # no real zip's sum
    changes = {("runner", "version"): runner, ("hooks", "sha256"): fixture_sum, ("docker", "cli"): docker}
    once = rewrite(TEXT, changes)
    assert rewrite(once, changes) == once
    changed = [(a, b) for a, b in zip(TEXT.splitlines(), once.splitlines(), strict=True) if a != b]
    assert len(changed) == 3, changed
    pins = parse(once)
    assert (pins.runner_version, pins.hooks_sha256, pins.docker_version) == (runner, fixture_sum, docker)
    # [hooks_novolume] sha256 is another table's key: untouched
    assert pins.hooks_novolume_sha256 == PINS.hooks_novolume_sha256
    assert rewrite(TEXT, {}) == TEXT


def test_rewrite_keeps_crlf_and_trailing_comments() -> None:
    text = '[docker]\r\ncli = "1.2.3"  # why\r\nbuildx = "0.1.0"\r\n'
    assert rewrite(text, {("docker", "cli"): "1.2.4"}) == '[docker]\r\ncli = "1.2.4"  # why\r\nbuildx = "0.1.0"\r\n'


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({("runner", "nope"): "1"}, "expected a known pin"),
        ({("runner", "version"): 'x"y'}, "expected a known pin and a plain value"),
    ],
)
def test_rewrite_refuses_unknown_keys_and_quotes(changes: dict, expected: str) -> None:
    with pytest.raises(InvalidSpecError, match=expected):
        rewrite(TEXT, changes)


def test_rewrite_refuses_a_key_the_text_lacks() -> None:
    with pytest.raises(InvalidSpecError, match=r"found none to rewrite"):
        rewrite("[runner]\n", {("runner", "version"): "9.9.9"})


def test_parse_names_a_missing_key_and_bad_toml(tmp_path: Path) -> None:
    broken = TEXT.replace('cli = "', 'cli_x = "')
    with pytest.raises(InvalidSpecError, match=r'\[docker\] cli = "..." \(docker-ce-cli version\), found None'):
        parse(broken)
    path = tmp_path / "pins.toml"
    path.write_text("[runner\n")
    with pytest.raises(InvalidSpecError, match=rf"{re.escape(str(path))}: expected TOML"):
        load(path)


def test_every_key_is_in_the_file() -> None:
    for table, key in KEYS:
        assert re.search(rf'^\[{table}\]$(?:\n(?!\[).*)*\n{key} = "', TEXT, re.MULTILINE), (table, key)
