"""RunnerSpec: arch map, validation messages, assets and URLs, layout contracts."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing

import dagger
import pytest

from pipelines.shared.contract import Layout
from pipelines.shared.defaults import Arch
from pipelines.shared.errors import InvalidSpecError
from pipelines.shared.pins import BASE_IMAGE, HOOKS_NOVOLUME_VERSION, HOOKS_VERSION, RUNNER_VERSION
from pipelines.shared.reference import parse_reference
from pipelines.shared.spec import RunnerSpec
from pipelines.shared.validators import parse_runner_checksums, valid_arch
from runner_image.client.flags import Declared
from runner_image.main import RunnerImage

X64_SHA = "70920811a4f8ad4328818682bca5c6469c1c942fab52448868071d0063816613"


# --- arch ------------------------------------------------------------------------
@pytest.mark.parametrize(("docker", "asset"), [("amd64", "x64"), ("arm64", "arm64")])
def test_arch_map(docker: str, asset: str) -> None:
    assert valid_arch(docker) == docker
    assert RunnerSpec(arch=docker).runner_arch == asset


@pytest.mark.parametrize("bad", ["x64", "arm", "aarch64", "AMD64", ""])
def test_unknown_arch_names_value_and_accepted_ones(bad: str) -> None:
    with pytest.raises(InvalidSpecError) as e:
        RunnerSpec(arch=bad)
    assert f"arch {bad!r}" in str(e.value)
    assert "amd64, arm64" in str(e.value)


def test_arch_accepts_enum_like_value() -> None:
    class Fake:
        value = "arm64"

    assert RunnerSpec(arch=Fake()).arch == "arm64"  # type: ignore[arg-type]


# --- versions --------------------------------------------------------------------
def test_defaults_are_the_pins() -> None:
    spec = RunnerSpec()
    assert (spec.runner_version, spec.hooks_version) == (RUNNER_VERSION, HOOKS_VERSION)
    assert spec.base_image == BASE_IMAGE
    assert spec.layout is Layout.HOSTED
    assert spec.arch == "amd64"


@pytest.mark.parametrize("tagged", ["v2.336.0", "2.336.0"])
def test_leading_v_is_dropped(tagged: str) -> None:
    assert RunnerSpec(runner_version=tagged).runner_version == "2.336.0"


@pytest.mark.parametrize("field", ["runner_version", "hooks_version", "hooks_novolume_version"])
@pytest.mark.parametrize("bad", ["2.33", "2.337", "2.337.0.1", "vv2.337.0", "2.337.x", " 2.337.0", "latest"])
def test_malformed_version_names_input_and_expected_form(field: str, bad: str) -> None:
    with pytest.raises(InvalidSpecError) as e:
        RunnerSpec(**{field: bad})
    message = str(e.value)
    assert f'{field} "{bad}"' in message
    assert "expected MAJOR.MINOR.PATCH" in message
    assert message.startswith("spec: ")


# --- sha256 ----------------------------------------------------------------------
def test_sha256_is_lowercased_and_prefix_dropped() -> None:
    spec = RunnerSpec(runner_sha256="sha256:" + X64_SHA.upper())
    assert spec.runner_sha256 == X64_SHA


@pytest.mark.parametrize("field", ["runner_sha256", "hooks_sha256", "hooks_novolume_sha256"])
@pytest.mark.parametrize("bad", ["abc", X64_SHA[:-1], X64_SHA + "0", "z" * 64])
def test_malformed_sha256_names_input_expected_and_found(field: str, bad: str) -> None:
    with pytest.raises(InvalidSpecError) as e:
        RunnerSpec(**{field: bad})
    message = str(e.value)
    assert f'{field} "{bad}"' in message
    assert "64 hexadecimal characters" in message
    assert f"found {len(bad)} characters" in message


# --- URLs ------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["runner_base_url", "hooks_base_url"])
@pytest.mark.parametrize(
    "bad", ["ftp://mirror/runner", "github.com/actions", "https://", "https://x/y?q=1", "file:///srv"]
)
def test_base_urls_must_be_http(field: str, bad: str) -> None:
    with pytest.raises(InvalidSpecError) as e:
        RunnerSpec(**{field: bad})
    assert f'{field} "{bad}"' in str(e.value)
    assert "expected an http:// or https:// URL" in str(e.value)


def test_source_label_must_be_a_url_and_created_a_timestamp() -> None:
    with pytest.raises(InvalidSpecError, match='source "not a url"'):
        RunnerSpec(source="not a url")
    with pytest.raises(InvalidSpecError, match=r'created "yesterday": expected an RFC 3339'):
        RunnerSpec(created="yesterday")
    assert RunnerSpec(created="2026-08-26T12:00:00Z").created == "2026-08-26T12:00:00Z"


# --- assets and URLs -------------------------------------------------------------
@pytest.mark.parametrize(("arch", "asset_arch"), [("amd64", "x64"), ("arm64", "arm64")])
def test_default_urls(arch: str, asset_arch: str) -> None:
    spec = RunnerSpec(arch=arch)
    asset = f"actions-runner-linux-{asset_arch}-{RUNNER_VERSION}.tar.gz"
    assert spec.runner_asset == asset
    assert spec.runner_url == f"https://github.com/actions/runner/releases/download/v{RUNNER_VERSION}/{asset}"
    assert spec.platform == f"linux/{arch}"
    # Upstream's image (actions/runner images/Dockerfile): the k8s asset of one hooks
    # release in k8s/ and of another in k8s-novolume/; a hooks release publishes no
    # "k8s-novolume" asset.
    hooks = "https://github.com/actions/runner-container-hooks/releases/download/v{0}/actions-runner-hooks-k8s-{0}.zip"
    assert spec.hooks_url == hooks.format(HOOKS_VERSION)
    assert spec.hooks_novolume_url == hooks.format(HOOKS_NOVOLUME_VERSION)
    assert (spec.hooks_asset, spec.hooks_novolume_asset) == (
        f"actions-runner-hooks-k8s-{HOOKS_VERSION}.zip",
        f"actions-runner-hooks-k8s-{HOOKS_NOVOLUME_VERSION}.zip",
    )


def test_custom_mirror_urls_and_trailing_slash() -> None:
    spec = RunnerSpec(
        arch="arm64",
        runner_version="v2.336.0",
        hooks_version="0.6.1",
        hooks_novolume_version="v0.9.0",
        runner_base_url="http://127.0.0.1:8080/runner/",
        hooks_base_url="http://127.0.0.1:8080/hooks",
    )
    assert spec.runner_url == "http://127.0.0.1:8080/runner/v2.336.0/actions-runner-linux-arm64-2.336.0.tar.gz"
    assert spec.hooks_url == "http://127.0.0.1:8080/hooks/v0.6.1/actions-runner-hooks-k8s-0.6.1.zip"
    assert spec.hooks_novolume_url == "http://127.0.0.1:8080/hooks/v0.9.0/actions-runner-hooks-k8s-0.9.0.zip"


def test_spec_is_frozen_and_replace_revalidates() -> None:
    spec = RunnerSpec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.arch = "arm64"  # type: ignore[misc]
    assert dataclasses.replace(spec, arch="arm64").runner_arch == "arm64"
    with pytest.raises(InvalidSpecError):
        dataclasses.replace(spec, runner_version="2")


# --- layout and contracts --------------------------------------------------------
@pytest.mark.parametrize("bad", ["Hosted", "dind", ""])
def test_unknown_layout(bad: str) -> None:
    with pytest.raises(InvalidSpecError) as e:
        RunnerSpec(layout=bad)  # type: ignore[arg-type]
    assert f"layout {bad!r}" in str(e.value)
    assert "hosted, minimal" in str(e.value)


def test_hosted_contract_is_the_adr_breaking_changes() -> None:
    c = RunnerSpec(layout="hosted").contract  # type: ignore[arg-type]
    assert (c.runner_dir, c.run_sh, c.work_dir, c.home) == (
        "/home/runner",
        "/home/runner/run.sh",
        "/home/runner/_work",
        "/home/runner",
    )
    assert (c.user, c.uid, c.group, c.gid, c.sudo) == ("runner", 1001, "docker", 123, True)
    assert c.workdir == "/home/runner"
    assert c.env["HOME"] == "/home/runner"
    assert c.env["RUNNER_MANUALLY_TRAP_SIG"] == "1"
    assert c.env["ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT"] == "1"
    assert "RUNNER_ALLOW_RUNASROOT" not in c.env


def test_minimal_contract_is_the_adr_context() -> None:
    c = RunnerSpec(layout=Layout.MINIMAL).contract
    assert (c.runner_dir, c.run_sh, c.workdir) == ("/actions-runner", "/actions-runner/run.sh", "/actions-runner")
    assert (c.user, c.uid, c.sudo) == ("root", 0, False)
    assert dict(c.env) == {"RUNNER_ALLOW_RUNASROOT": "1"}


def test_contract_env_is_read_only() -> None:
    with pytest.raises(TypeError):
        RunnerSpec().contract.env["X"] = "1"  # type: ignore[index]


# --- docker references -----------------------------------------------------------
@pytest.mark.parametrize(
    ("ref", "host", "path", "tag", "digest"),
    [
        (BASE_IMAGE, "mcr.microsoft.com", "dotnet/runtime-deps", "8.0-noble", None),
        ("ubuntu:24.04", None, "ubuntu", "24.04", None),
        ("library/debian", None, "library/debian", None, None),
        ("localhost:5000/runner-base:bookworm", "localhost:5000", "runner-base", "bookworm", None),
        ("127.0.0.1:5000/a/b_c/d__e", "127.0.0.1:5000", "a/b_c/d__e", None, None),
        ("ghcr.io/o/r@sha256:" + "a" * 64, "ghcr.io", "o/r", None, "sha256:" + "a" * 64),
        ("ghcr.io/o/r:t@sha256:" + "b" * 64, "ghcr.io", "o/r", "t", "sha256:" + "b" * 64),
    ],
)
def test_reference_parsing(ref: str, host: str | None, path: str, tag: str | None, digest: str | None) -> None:
    parsed = parse_reference(ref)
    assert (parsed.host, parsed.path, parsed.tag, parsed.digest) == (host, path, tag, digest)
    assert str(parsed) == ref


def test_reference_registry_defaults_to_docker_hub() -> None:
    assert parse_reference("ubuntu").registry == "docker.io"
    assert parse_reference("ghcr.io/o/r").registry == "ghcr.io"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "Ubuntu:24.04",
        "ghcr.io/Owner/repo",
        "ubuntu:",
        "ubuntu:24.04:x",
        "ubuntu@sha256:abc",
        "-ubuntu",
        "ghcr.io//r",
        "ubuntu latest",
        "https://ghcr.io/o/r",
        "a/" * 200 + "b",
    ],
)
def test_bad_base_image_names_input_and_form(bad: str) -> None:
    with pytest.raises(InvalidSpecError) as e:
        RunnerSpec(base_image=bad)
    assert f'base_image "{bad}"' in str(e.value)
    assert "[HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST]" in str(e.value)


def test_the_objects_spec_takes_each_arch_its_runner_sum_and_the_hooks_sums() -> None:
    image = RunnerImage(runner_checksums=["amd64=" + "A" * 64, "arm64=sha256:" + "b" * 64], hooks_checksum="c" * 64)
    arm64 = image.spec(Arch.ARM64, Layout.MINIMAL)
    assert (arm64.runner_sha256, arm64.hooks_sha256, arm64.layout.value) == ("b" * 64, "c" * 64, "minimal")
    assert image.spec(Arch.AMD64, Layout.HOSTED).runner_sha256 == "a" * 64
    assert RunnerImage().spec(Arch.AMD64, Layout.HOSTED).runner_sha256 is None


def test_every_setting_reaches_the_spec_or_is_an_engine_input() -> None:
    """spec() is the one place a setting meets its RunnerSpec field: a new field it forgets fails here.

    Engine inputs (a Secret, File or Directory) are read where they are used
    (the token by handled(), the files by specs() and archives()).
    """
    hints = typing.get_type_hints(RunnerImage, include_extras=True)
    engine_kinds = (dagger.Secret, dagger.File, dagger.Directory)
    engine_inputs = {name for name, hint in hints.items() if Declared.of(name, hint).item in engine_kinds}
    used = set(re.findall(r"self\.([a-z_]+)", inspect.getsource(RunnerImage.spec)))
    assert used == {f.name for f in dataclasses.fields(RunnerImage)} - engine_inputs
    assert engine_inputs == {"github_token", "ca_certificates", "runner_archive", "hooks_archive",
                             "hooks_novolume_archive", "docker_apt_repo"}  # fmt: skip


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (["arm64"], "not of that form"),
        (["riscv=" + "a" * 64], "not of that form"),
        (["arm64=" + "a" * 64, "arm64=" + "b" * 64], "arm64 given twice"),
    ],
)
def test_runner_checksums_refuse_what_is_not_arch_equals_sum(values: list[str], why: str) -> None:
    with pytest.raises(InvalidSpecError, match="expected ARCH=SHA256 with ARCH one of amd64, arm64") as e:
        parse_runner_checksums(values)
    assert why in str(e.value)
    with pytest.raises(InvalidSpecError, match='runner_checksum arm64 "xyz": expected a SHA-256'):
        parse_runner_checksums(["arm64=xyz"])
