"""Client-mode CLI: flags parse into the same RunnerSpecs the module builds (no engine)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from pipelines.shared.errors import InvalidSpecError
from pipelines.shared.pins import HOOKS_NOVOLUME_VERSION, HOOKS_VERSION, RUNNER_VERSION
from runner_image.client.cli import image_from_args, specs_from_args
from runner_image.client.flags import parser, valid_secret_uri
from runner_image.main import RunnerImage


def specs(*argv: str) -> list[tuple[str, str]]:
    return [(s.arch, s.layout.value) for s in specs_from_args(parser().parse_args(argv))]


def test_build_defaults() -> None:
    (spec,) = specs_from_args(parser().parse_args(["build"]))
    assert (spec.arch, spec.layout.value, spec.runner_version) == ("amd64", "hosted", RUNNER_VERSION)
    assert spec.novolume_hooks is True
    assert (spec.hooks_version, spec.hooks_novolume_version) == (HOOKS_VERSION, HOOKS_NOVOLUME_VERSION)


def test_smoke_test_flags() -> None:
    args = parser().parse_args(
        [
            "smoke-test",
            "--arch",
            "arm64",
            "--layout",
            "minimal",
            "--runner-version",
            "v2.336.0",
            "--runner-checksum",
            "arm64=" + "A" * 64,
            "--runner-checksum",
            "amd64=" + "b" * 64,
            "--runner-base-url",
            "http://127.0.0.1:8/runner",
            "--hooks-version",
            "0.6.0",
            "--hooks-novolume-version",
            "v0.8.0",
            "--no-novolume-hooks",
            "--allow-unverified",
        ]
    )
    (spec,) = specs_from_args(args)
    assert (spec.arch, spec.layout.value, spec.runner_version) == ("arm64", "minimal", "2.336.0")
    assert spec.runner_sha256 == "a" * 64
    assert spec.runner_url.startswith("http://127.0.0.1:8/runner/v2.336.0/")
    assert (spec.novolume_hooks, spec.allow_unverified) == (False, True)
    assert (spec.hooks_version, spec.hooks_novolume_version) == ("0.6.0", "0.8.0")


def test_ci_builds_both_layouts_per_arch() -> None:
    assert specs("ci", "--arch", "arm64") == [("arm64", "hosted"), ("arm64", "minimal")]
    assert len(specs("ci")) == 4


def test_publish_arches_repeat_and_default_to_all() -> None:
    assert specs("publish", "--address", "o/r:1") == [("amd64", "hosted"), ("arm64", "hosted")]
    assert specs("publish", "--address", "o/r:1", "--arch", "arm64") == [("arm64", "hosted")]


@pytest.mark.parametrize("command", ["build", "ci"])
def test_unknown_arch_is_refused_by_argparse(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args([command, "--arch", "x64"])
    assert "invalid choice: 'x64'" in capsys.readouterr().err


def test_password_must_be_a_reference() -> None:
    assert valid_secret_uri("env://GITHUB_TOKEN") == "env://GITHUB_TOKEN"
    with pytest.raises(InvalidSpecError, match="expected env://VAR or file://PATH"):
        valid_secret_uri("hunter2")


def client_mode_without_engine(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m pipelines ARGS` as users run it, in a child process with no engine configured,
    so that reaching the engine would fail differently from refusing the input."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_EXPERIMENTAL_DAGGER", "DAGGER_"))}
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_bad_input_exits_1_before_connecting() -> None:
    done = client_mode_without_engine("build", "--runner-version", "2.33")
    assert done.returncode == 1, done
    assert 'error: spec: runner_version "2.33": expected MAJOR.MINOR.PATCH' in done.stderr
    assert "Traceback" not in done.stderr


def test_docker_cli_flags() -> None:
    (spec,) = specs_from_args(parser().parse_args(["build"]))
    assert spec.with_docker_cli  # on by default in the hosted layout
    (spec,) = specs_from_args(parser().parse_args(["build", "--no-docker-cli"]))
    assert spec.docker_cli is False
    args = parser().parse_args(
        [
            "smoke-test",
            "--docker-cli",
            "--docker-version",
            "28.5.2",
            "--buildx-version",
            "v0.30.1",
            "--docker-apt-url",
            "http://127.0.0.1:8/docker",
            "--docker-key-fingerprint",
            "0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567",
        ]
    )
    (spec,) = specs_from_args(args)
    assert spec.with_docker_cli
    assert (spec.docker_version, spec.buildx_version) == ("28.5.2", "0.30.1")
    assert spec.docker_apt_url == "http://127.0.0.1:8/docker"
    assert spec.docker_key_fingerprint == "0123456789ABCDEF0123456789ABCDEF01234567"
    assert specs_from_args(parser().parse_args(["ci", "--docker-cli"]))[1].with_docker_cli is False  # minimal


def test_merge_takes_repeatable_sources_and_addresses() -> None:
    args = parser().parse_args(
        ["merge", "--source", "o/r:s-amd64", "--source", "o/r:s-arm64", "--address", "o/r:1", "--address", "o/r:latest",
         "--layout", "minimal", "--runner-version", "v2.336.0"]
    )  # fmt: skip
    assert (args.sources, args.addresses) == (["o/r:s-amd64", "o/r:s-arm64"], ["o/r:1", "o/r:latest"])
    assert args.layout == "minimal"
    assert args.runner_version == "v2.336.0"  # checked (and the v dropped) by the module's merge


def test_setting_flags_are_made_from_the_module_objects_fields() -> None:
    """Each kind of field becomes the flag `dagger call` makes of it; name, help and default come from the field."""
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    actions = {a.dest: a for a in sub.choices["build"]._actions}
    assert actions["docker_cli"].option_strings == ["--docker-cli", "--no-docker-cli"]
    assert actions["runner_checksums"].option_strings == ["--runner-checksum"]  # its Name
    assert isinstance(actions["runner_checksums"], argparse._AppendAction)
    assert actions["github_token"].metavar == "env://VAR"
    assert actions["ca_certificates"].metavar == "PATH"
    assert actions["docker_apt_repo"].metavar == "DIR"
    assert actions["runner_version"].default == RunnerImage.runner_version
    (doc,) = typing.get_type_hints(RunnerImage, include_extras=True)["runner_version"].__metadata__
    assert actions["runner_version"].help == doc.documentation
    args = parser().parse_args(["build", "--no-docker-cli", "--runner-checksum", "a", "--runner-checksum", "b"])
    assert (args.docker_cli, args.runner_checksums) == (False, ["a", "b"])


def test_client_mode_makes_the_same_object_dagger_call_makes() -> None:
    """The flags' values become the module object's fields: enum values its members, the rest as given."""
    args = parser().parse_args(["ci", "--runner-version", "2.336.0", "--no-docker-cli", "--extra-package", "jq"])
    assert image_from_args(args) == RunnerImage(runner_version="2.336.0", docker_cli=False, extra_packages=["jq"])
    assert image_from_args(parser().parse_args(["updates"])) == RunnerImage()


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("--runner-archive", "a file"), ("--docker-apt-repo", "a directory"), ("--github-token", "env://VAR")],
)
def test_an_engine_input_that_cannot_be_had_exits_1_naming_its_flag_before_connecting(
    flag: str, expected: str, tmp_path: Path
) -> None:
    value = "hunter2" if flag == "--github-token" else str(tmp_path / "not-there")
    done = client_mode_without_engine("build", flag, value)
    assert done.returncode == 1, done
    assert expected in done.stderr, done.stderr
    assert flag.lstrip("-").replace("-", "_") in done.stderr or flag in done.stderr, done.stderr
    assert "hunter2" not in done.stderr
    assert "Traceback" not in done.stderr
