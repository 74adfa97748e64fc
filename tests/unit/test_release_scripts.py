"""The workflow's release helpers (ci/release-*.sh): tags users expect, digests to attest (bash, no engine)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipelines.shared.pins import RUNNER_VERSION

ROOT = Path(__file__).resolve().parents[2]
GITHUB = {
    "REGISTRY": "ghcr.io",
    "REPOSITORY": "Example/Runner-Image",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_SHA": "0" * 40,
    "DEFAULT_BRANCH": "main",
    "PATH": "/usr/bin:/bin",
}


def run(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "ci" / script)], env={**GITHUB, **env}, capture_output=True, text=True,
                          check=False)  # fmt: skip


def outputs(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def test_default_branch_gets_the_runner_version_and_latest() -> None:
    out = outputs(run("release-addresses.sh", GITHUB_REF="refs/heads/main"))
    image = "ghcr.io/example/runner-image"  # lowercase, as registries want
    assert out == {
        "image": image,
        "staging": f"{image}:staging-{'0' * 40}",
        "source": "https://github.com/Example/Runner-Image",
        "hosted": f"--address {image}:{RUNNER_VERSION} --address {image}:latest",
        "minimal": f"--address {image}:{RUNNER_VERSION}-minimal",
    }


@pytest.mark.parametrize("ref", ["refs/tags/v1.2.0", "refs/heads/other"])
def test_latest_only_on_the_default_branch(ref: str) -> None:
    out = outputs(run("release-addresses.sh", GITHUB_REF=ref))
    assert out["hosted"] == f"--address ghcr.io/example/runner-image:{RUNNER_VERSION}"


def test_a_malformed_runner_version_is_refused() -> None:
    done = run("release-addresses.sh", GITHUB_REF="refs/heads/main", RUNNER_VERSION="2.33")
    assert done.returncode == 1
    assert "expected MAJOR.MINOR.PATCH, found '2.33'" in done.stderr


def test_digests_come_from_what_merge_printed() -> None:
    hosted, minimal = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    out = outputs(
        run("release-digests.sh", HOSTED=f"ghcr.io/o/r:1@{hosted}\n\n", MINIMAL=f"ghcr.io/o/r:1-minimal@{minimal}")
    )
    assert out == {"hosted": hosted, "minimal": minimal}
    done = run("release-digests.sh", HOSTED="Error: merge: ...", MINIMAL=f"x@{minimal}")
    assert done.returncode == 1
    assert "hosted: expected merge to print <address>@sha256:<64 hex>, found 'Error:merge:...'" in done.stderr
