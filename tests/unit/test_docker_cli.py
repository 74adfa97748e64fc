"""Docker CLI for dind mode, the pure parts: repository line, versions, key check, settings."""

from __future__ import annotations

import pytest

from pipelines.image.apt import download_script
from pipelines.image.assemble import labels
from pipelines.image.docker_repo import (
    KEYRING,
    check_key,
    docker_repo,
    packages,
    primary_fingerprints,
)
from pipelines.release.smoke import docker_cli_problem
from pipelines.shared.defaults import DOCKER_KEY_FINGERPRINT
from pipelines.shared.errors import ChecksumError, InvalidSpecError
from pipelines.shared.pins import PINS
from pipelines.shared.spec import RunnerSpec

NOBLE = {"ID": "ubuntu", "VERSION_ID": "24.04", "VERSION_CODENAME": "noble"}
BOOKWORM = {"ID": "debian", "VERSION_ID": "12", "VERSION_CODENAME": "bookworm"}
OTHER = "0123456789ABCDEF0123456789ABCDEF01234567"

# `gpg --with-colons --fingerprint --list-keys` of a keyring with two keys; the
# first has a subkey, whose fingerprint must not count as a primary key's.
COLONS = f"""tru::1:1795945177:0:3:1:5
pub:-:4096:1:8D81803C0EBFCD88:1487788586:::-:::scESC::::::23::0:
fpr:::::::::{DOCKER_KEY_FINGERPRINT}:
uid:-::::1487792064::4AA3B3B0D5BD1E3F2FCB0B9F8B4A1C1E3F2C2D1A::Docker Release (CE deb) <docker@docker.com>::::::::::0:
sub:-:4096:1:7EA0A9C3F273FCD8:1487788586::::::s::::::23:
fpr:::::::::{OTHER[::-1]}:
pub:-:255:22:ECD3364E9D97BF66:1795945177:::-:::scSC:::::ed25519:::0:
fpr:::::::::{OTHER}:
"""


def test_defaults_are_the_pinned_versions_and_dockers_key_and_on() -> None:
    spec = RunnerSpec()
    assert (spec.docker_version, spec.buildx_version) == (PINS.docker_version, PINS.buildx_version)
    assert spec.docker_apt_url == "https://download.docker.com/linux"
    assert spec.docker_key_fingerprint == "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
    assert spec.docker_cli is True


def test_docker_cli_only_in_the_hosted_layout() -> None:
    assert RunnerSpec(docker_cli=True).with_docker_cli
    assert not RunnerSpec(docker_cli=True, layout="minimal").with_docker_cli  # type: ignore[arg-type]
    assert RunnerSpec().with_docker_cli  # the default
    assert not RunnerSpec(docker_cli=False).with_docker_cli


def test_repository_line_and_versions_follow_the_base_os_release() -> None:
    spec = RunnerSpec(docker_cli=True, arch="arm64", docker_version="27.5.1", buildx_version="0.20.1")
    repo = docker_repo(spec, NOBLE)
    assert repo.key_url == "https://download.docker.com/linux/ubuntu/gpg"
    assert repo.source_line == (
        f"deb [arch=arm64 signed-by={KEYRING}] https://download.docker.com/linux/ubuntu noble stable\n"
    )
    assert packages(spec, repo) == (
        "docker-ce-cli=5:27.5.1-1~ubuntu.24.04~noble",
        "docker-buildx-plugin=0.20.1-1~ubuntu.24.04~noble",
    )
    mirror = RunnerSpec(docker_apt_url="http://127.0.0.1:8/docker/", docker_version="28.5.2")
    repo = docker_repo(mirror, BOOKWORM)
    assert repo.source_line.endswith(" http://127.0.0.1:8/docker/debian bookworm stable\n")
    assert packages(mirror, repo)[0] == "docker-ce-cli=5:28.5.2-1~debian.12~bookworm"


def test_a_base_without_a_codename_is_refused_with_the_way_out() -> None:
    with pytest.raises(InvalidSpecError) as e:
        docker_repo(RunnerSpec(base_image="example/base:1"), {"ID": "alpine", "VERSION_ID": "3.20"})
    assert 'base_image "example/base:1"' in str(e.value)
    assert "VERSION_CODENAME" in str(e.value)
    assert "--docker-cli=false" in str(e.value)


def test_only_primary_key_fingerprints_are_read() -> None:
    assert primary_fingerprints(COLONS) == [DOCKER_KEY_FINGERPRINT, OTHER]
    assert primary_fingerprints("") == []


def test_the_pinned_key_must_be_in_the_file() -> None:
    check_key([OTHER, DOCKER_KEY_FINGERPRINT], DOCKER_KEY_FINGERPRINT, "https://x/ubuntu/gpg")
    with pytest.raises(ChecksumError) as e:
        check_key([OTHER], DOCKER_KEY_FINGERPRINT, "https://x/ubuntu/gpg")
    message = str(e.value)
    assert message.startswith("checksum: Docker's apt key from https://x/ubuntu/gpg: expected the key with")
    assert f"fingerprint {DOCKER_KEY_FINGERPRINT}, found {OTHER}" in message
    assert "--docker-key-fingerprint" in message
    with pytest.raises(ChecksumError, match=r"found no OpenPGP key \(gpg: no valid OpenPGP data found\)"):
        check_key([], DOCKER_KEY_FINGERPRINT, "https://x/ubuntu/gpg", gpg_said="no valid OpenPGP data found")


@pytest.mark.parametrize(
    ("value", "stored"),
    [("9DC8 5822 9FC7 DD38 854A  E2D8 8D81 803C 0EBF CD88", DOCKER_KEY_FINGERPRINT), (OTHER.lower(), OTHER)],
)
def test_fingerprint_spaces_and_case(value: str, stored: str) -> None:
    assert RunnerSpec(docker_key_fingerprint=value).docker_key_fingerprint == stored


@pytest.mark.parametrize("bad", ["", "8D81803C0EBFCD88", OTHER + "0", "Z" * 40])
def test_malformed_fingerprint_names_input_and_form(bad: str) -> None:
    with pytest.raises(InvalidSpecError) as e:
        RunnerSpec(docker_key_fingerprint=bad)
    assert f'docker_key_fingerprint "{bad}"' in str(e.value)
    assert "40 hexadecimal characters" in str(e.value)


@pytest.mark.parametrize("field", ["docker_version", "buildx_version"])
def test_malformed_docker_versions(field: str) -> None:
    with pytest.raises(InvalidSpecError, match=f'{field} "latest": expected MAJOR.MINOR.PATCH'):
        RunnerSpec(**{field: "latest"})


def test_strict_update_makes_any_repository_failure_an_error() -> None:
    strict = download_script("amd64", ("jq",), strict_update=True).splitlines()
    lax = download_script("amd64", ("jq",)).splitlines()
    update = [line for line in strict if line.endswith(" update")]
    assert len(update) == 1
    assert update[0].endswith("-o APT::Update::Error-Mode=any update")
    assert not any("Error-Mode" in line for line in lax)


def test_docker_labels_only_when_shipped() -> None:
    shipped = labels(RunnerSpec(docker_cli=True, docker_version="27.5.1", buildx_version="0.20.1"))
    assert shipped["dev.runner-image.docker.version"] == "27.5.1"
    assert shipped["dev.runner-image.buildx.version"] == "0.20.1"
    for spec in (RunnerSpec(docker_cli=False), RunnerSpec(docker_cli=True, layout="minimal")):  # type: ignore[arg-type]
        assert "dev.runner-image.docker.version" not in labels(spec)


def test_smoke_wants_both_versions() -> None:
    spec = RunnerSpec(docker_cli=True, docker_version="27.5.1", buildx_version="0.20.1")
    good_docker, good_buildx = "Docker version 27.5.1, build abc\n", "github.com/docker/buildx v0.20.1 deadbeef\n"
    assert docker_cli_problem(spec, good_docker, good_buildx) is None
    assert docker_cli_problem(spec, "Docker version 28.5.2, build x", good_buildx) == (
        "docker --version: expected 27.5.1, found 'Docker version 28.5.2, build x'"
    )
    assert docker_cli_problem(spec, "Docker version 20.10.24+dfsg1, build 297e128", good_buildx) is not None
    assert docker_cli_problem(spec, "Docker version 27.5.10, build x", good_buildx) is not None
    debian = RunnerSpec(docker_cli=True, docker_version="20.10.24", buildx_version="0.38.2")
    assert docker_cli_problem(debian, "Docker version 20.10.24+dfsg1, build 297e128", "buildx v0.38.2 x") is None
    assert docker_cli_problem(debian, "Docker version 20.10.24, build x", "buildx v0.38.20 x") is not None
    problem = docker_cli_problem(spec, good_docker, "docker: 'buildx' is not a docker command.")
    assert problem is not None
    assert problem.startswith("docker buildx version: expected v0.20.1")
