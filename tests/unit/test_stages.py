"""Pure parts of unpack, assemble and smoke: scripts, ImageOS, labels, checks."""

from __future__ import annotations

import pytest

from pipelines.image.assemble import image_os, labels
from pipelines.image.system import HOSTED_PACKAGES, SUDOERS_FILE, SUDOERS_RULE, user_script
from pipelines.image.unpack import unpack_script
from pipelines.release.smoke import contract_mismatches, version_line
from pipelines.shared.contract import HOSTED_CONTRACT, MINIMAL_CONTRACT
from pipelines.shared.errors import InvalidSpecError
from pipelines.shared.os_release import parse_os_release
from pipelines.shared.pins import PINS
from pipelines.shared.spec import RunnerSpec

UBUNTU = """PRETTY_NAME="Ubuntu 24.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.3 LTS (Noble Numbat)"
ID=ubuntu
ID_LIKE=debian
"""
DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n# comment\n\n'


# --- unpack ------------------------------------------------------------------------
def test_unpack_script_picks_the_tool_by_archive_type_and_fails_loudly() -> None:
    tar = unpack_script("/a/r.tar.gz", "/actions-runner").splitlines()
    assert tar == ["set -eu", "mkdir -p /actions-runner", "tar xzf /a/r.tar.gz -C /actions-runner"]
    zip_ = unpack_script("/a/h.zip", "/actions-runner/k8s").splitlines()
    assert zip_[-1] == "unzip -q -o /a/h.zip -d /actions-runner/k8s"
    assert unpack_script("/a/it's.zip", "/d").splitlines()[-1] == "unzip -q -o '/a/it'\"'\"'s.zip' -d /d"


# --- assemble ----------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [(UBUNTU, "ubuntu24"), (DEBIAN, "debian12")])
def test_image_os(text: str, expected: str) -> None:
    assert image_os(text, base_image="x") == expected


def test_os_release_parsing_strips_quotes_and_comments() -> None:
    fields = parse_os_release(DEBIAN)
    assert fields == {"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "VERSION_ID": "12", "ID": "debian"}


@pytest.mark.parametrize("text", ["", "ID=alpine\n", 'ID=arch\nVERSION_ID="rolling"\n'])
def test_image_os_refuses_what_it_cannot_name(text: str) -> None:
    with pytest.raises(InvalidSpecError) as e:
        image_os(text, base_image="example/base:1")
    assert 'base_image "example/base:1"' in str(e.value)
    assert "expected /etc/os-release with ID and a numeric VERSION_ID" in str(e.value)


def test_labels_omit_unknown_metadata() -> None:
    found = labels(RunnerSpec(docker_cli=False))
    assert found == {
        "org.opencontainers.image.version": PINS.runner_version,
        "org.opencontainers.image.licenses": "MIT",
        "org.opencontainers.image.base.name": PINS.base_image,
        "dev.runner-image.hooks.version": PINS.hooks_version,
        "dev.runner-image.hooks-novolume.version": PINS.hooks_novolume_version,
        "dev.runner-image.layout": "hosted",
    }


def test_no_novolume_label_without_k8s_novolume() -> None:
    assert "dev.runner-image.hooks-novolume.version" not in labels(RunnerSpec(novolume_hooks=False))


def test_labels_with_metadata() -> None:
    spec = RunnerSpec(
        source="https://github.com/o/r", revision="abc123", created="2026-08-26T00:00:00Z", layout="minimal"
    )  # type: ignore[arg-type]
    found = labels(spec)
    assert found["org.opencontainers.image.source"] == "https://github.com/o/r"
    assert found["org.opencontainers.image.revision"] == "abc123"
    assert found["org.opencontainers.image.created"] == "2026-08-26T00:00:00Z"
    assert found["dev.runner-image.layout"] == "minimal"


def test_user_script_has_fixed_ids_and_groups() -> None:
    script = user_script(HOSTED_CONTRACT)
    assert script.startswith("groupadd --gid 123 docker && useradd ")
    assert "--uid 1001" in script
    assert "--groups sudo,docker" in script
    assert "--home-dir /home/runner" in script
    assert script.endswith(" runner")


def test_packages_and_sudo_rule() -> None:
    assert "sudo" in HOSTED_PACKAGES
    assert SUDOERS_RULE.splitlines() == ["%sudo ALL=(ALL:ALL) NOPASSWD:ALL", 'Defaults env_keep += "DEBIAN_FRONTEND"']
    assert "." not in SUDOERS_FILE.rsplit("/", 1)[1]  # sudo ignores sudoers.d files with a dot


# --- smoke -------------------------------------------------------------------------
RUN_OUTPUT = """[RUNNER 2026-08-26 12:00:00Z INFO HostContext] Well known directory 'Bin': '/home/runner/bin'
2.337.0
Runner listener exit with 0 return code, stop the service, no retry needed.
Exiting runner...
"""


def test_version_line_wants_an_exact_line() -> None:
    assert version_line(RUN_OUTPUT, "2.337.0") == "2.337.0"
    assert version_line("  2.337.0  \r\n", "2.337.0") == "2.337.0"
    assert version_line(RUN_OUTPUT, "2.337.1") is None
    assert version_line("runner 2.337.0\n", "2.337.0") is None
    assert version_line("2.337.01\n", "2.337.0") is None
    assert version_line("Must not run interactively with sudo\nExiting runner...\n", "2.337.0") is None


def test_contract_check_passes_a_conforming_image() -> None:
    found = contract_mismatches(
        HOSTED_CONTRACT,
        user="runner",
        workdir="/home/runner/",
        env=dict(HOSTED_CONTRACT.env),
        entrypoint=[],
        default_args=[],
    )
    assert found == []


def test_contract_check_names_every_mismatch() -> None:
    found = contract_mismatches(
        MINIMAL_CONTRACT,
        user="runner",
        workdir="/",
        env={"RUNNER_ALLOW_RUNASROOT": None},
        entrypoint=["/bin/sh"],
        default_args=["-c"],
    )
    assert "user: expected 'root', found 'runner'" in found
    assert "workdir: expected '/actions-runner', found '/'" in found
    assert "env RUNNER_ALLOW_RUNASROOT: expected '1', found None" in found
    assert any(line.startswith("entrypoint/cmd: expected none") for line in found)
