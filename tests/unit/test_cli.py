"""Client-mode CLI: flags parse into the same RunnerSpecs the module builds (no engine)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipelines.cli import check_secret_uri, parser, specs_from_args
from pipelines.errors import InvalidSpecError
from pipelines.spec import RUNNER_VERSION


def specs(*argv: str) -> list[tuple[str, str]]:
    return [(s.arch, s.layout.value) for s in specs_from_args(parser().parse_args(argv))]


def test_build_defaults() -> None:
    (spec,) = specs_from_args(parser().parse_args(["build"]))
    assert (spec.arch, spec.layout.value, spec.runner_version) == ("amd64", "hosted", RUNNER_VERSION)
    assert spec.novolume_hooks is True


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
            "--no-novolume-hooks",
            "--allow-unverified",
        ]
    )
    (spec,) = specs_from_args(args)
    assert (spec.arch, spec.layout.value, spec.runner_version) == ("arm64", "minimal", "2.336.0")
    assert spec.runner_sha256 == "a" * 64
    assert spec.runner_url.startswith("http://127.0.0.1:8/runner/v2.336.0/")
    assert (spec.novolume_hooks, spec.allow_unverified) == (False, True)


def test_ci_builds_both_layouts_per_arch() -> None:
    assert specs("ci", "--arch", "arm64") == [("arm64", "hosted"), ("arm64", "minimal")]
    assert len(specs("ci")) == 4


def test_publish_arches_repeat_and_default_to_all() -> None:
    assert specs("publish", "--address", "o/r:1") == [("amd64", "hosted"), ("arm64", "hosted")]
    assert specs("publish", "--address", "o/r:1", "--arch", "arm64") == [("arm64", "hosted")]


def test_unknown_arch_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["build", "--arch", "x64"])
    assert "invalid choice: 'x64'" in capsys.readouterr().err


def test_password_must_be_a_reference() -> None:
    assert check_secret_uri("env://GITHUB_TOKEN") == "env://GITHUB_TOKEN"
    with pytest.raises(InvalidSpecError, match="expected env://VAR or file://PATH"):
        check_secret_uri("hunter2")


def test_bad_input_exits_1_before_connecting() -> None:
    # A child process: `python -m pipelines` as users run it, with no engine
    # configured, so reaching the engine would fail differently.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_EXPERIMENTAL_DAGGER", "DAGGER_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", "build", "--runner-version", "2.33"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done
    assert 'error: spec: runner_version "2.33": expected MAJOR.MINOR.PATCH' in done.stderr
    assert "Traceback" not in done.stderr


def test_merge_takes_repeatable_sources_and_addresses() -> None:
    args = parser().parse_args(
        ["merge", "--source", "o/r:s-amd64", "--source", "o/r:s-arm64", "--address", "o/r:1", "--address", "o/r:latest",
         "--layout", "minimal", "--runner-version", "v2.336.0"]
    )  # fmt: skip
    assert (args.sources, args.addresses) == (["o/r:s-amd64", "o/r:s-arm64"], ["o/r:1", "o/r:latest"])
    assert args.layout == "minimal"
    assert args.runner_version == "v2.336.0"  # checked (and the v dropped) by run_merge
