"""The apt split's scripts: the download acts for the target's arch and status; the install reads no index."""

from __future__ import annotations

import pytest

from pipelines.image.apt import DEBS, DEPENDENCIES, TARGET_STATUS, apt_options, download_script, install_script
from pipelines.image.system import HOSTED_PACKAGES


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_download_acts_for_the_target(arch: str) -> None:
    opts = apt_options(arch)
    assert f"APT::Architecture={arch}" in opts
    assert f"APT::Architectures::={arch}" in opts  # the target's arch only
    assert f"Dir::State::status={TARGET_STATUS}" in opts
    script = download_script(arch, HOSTED_PACKAGES)
    apt_lines = [line for line in script.splitlines() if line.startswith("apt-get ")]
    assert len(apt_lines) == 2
    for line in apt_lines:
        assert f"-o APT::Architecture={arch}" in line
        assert f"-o Dir::State::status={TARGET_STATUS}" in line


def test_download_fetches_without_installing() -> None:
    install = next(line for line in download_script("arm64", ("git", "jq")).splitlines() if " install " in line)
    assert "--download-only" in install
    assert "--no-install-recommends" in install
    assert install.endswith(" git jq")


def test_requested_packages_are_not_listed_as_dependencies() -> None:
    script = download_script("amd64", ("docker-ce-cli=5:27.5.1-1~debian.12~bookworm", "jq"))
    # version pins are stripped from the names the dependency list leaves out
    assert 'case " docker-ce-cli jq " in' in script
    assert f'echo "$name" >> {DEPENDENCIES}' in script


def test_install_reads_only_the_downloaded_files() -> None:
    script = install_script()
    assert "update" not in script  # no index: apt only orders the given files for dpkg
    assert f"set -- {DEBS}/*.deb" in script
    assert 'apt-get install -y --no-install-recommends -o DPkg::Options::=--force-unsafe-io "$@"' in script
    assert f"apt-mark auto $(cat {DEPENDENCIES})" in script
    assert "rm -rf /var/lib/apt/lists/*" in script
    assert "rm -f /var/cache/apt/*.bin" in script


def test_install_runs_what_follows_in_the_same_step_after_the_install() -> None:
    script = install_script(then="useradd runner")
    lines = script.splitlines()
    assert lines[-1] == "useradd runner"
    assert lines.index("useradd runner") > next(i for i, line in enumerate(lines) if "apt-get install" in line)
    assert script.startswith("set -eu")  # a failing install stops the step before what follows
    assert install_script().splitlines()[-1].startswith("rm -f /var/cache/apt/*.bin")
